package io.cleargate.policy;

import io.cleargate.domain.EngineEvent.Usage;
import io.cleargate.domain.EngineRequest;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks the tenant policy (OPA) about the request and enforces the answer: deny with the reasons,
 * clamp max_tokens to the tenant's limit, and hold the tenant to its requests and tokens per
 * minute (counted in the store every replica shares, when one is configured); a tenant with
 * budgets is decided on its month-to-date usage, a used-up budget is a 429, and each admitted
 * request is held against the budgets until it ends ({@link BudgetHolds}). The decision goes
 * on the exchange for routing (regions), moderation (profile) and audit
 * (content mode, decision id, revision).
 */
@ApplicationScoped
public class PolicyStage implements Stage {

    /** True when the decision was reused from the short cache rather than asked of OPA. */
    public static final Exchange.Key<Boolean> DECISION_CACHED = Exchange.Key.of("policy-decision-cached", Boolean.class);

    /** Tokens reserved against the tenant's tokens-per-minute, settled when the request ends. */
    static final Exchange.Key<Long> RESERVED_TOKENS = Exchange.Key.of("policy-reserved-tokens", Long.class);

    /** Tokens the engine reported using. */
    static final Exchange.Key<Usage> USAGE = Exchange.Key.of("policy-usage", Usage.class);

    /** The prompt's estimated tokens, charged whatever happens once the request was admitted. */
    static final Exchange.Key<Long> PROMPT_TOKENS = Exchange.Key.of("policy-prompt-tokens", Long.class);

    /** Where the reservation was counted (the shared store, or this replica's memory), to settle it there. */
    static final Exchange.Key<LimitCounters> COUNTED_BY = Exchange.Key.of("policy-counted-by", LimitCounters.class);

    /** Characters of answer that passed on towards the client, for a request that reports no usage. */
    static final Exchange.Key<Long> STREAMED_CHARS = Exchange.Key.of("policy-streamed-chars", Long.class);

    private final PolicyDecisions decisions;
    private final TenantLimits limiter;
    private final Spending spending;
    private final BudgetHolds budgetHolds;
    /** Tenants whose last decision named budgets: their inputs carry usage from the start. */
    private final Set<String> budgeted = ConcurrentHashMap.newKeySet();

    @Inject
    public PolicyStage(PolicyDecisions decisions, TenantLimits limiter, Spending spending) {
        this.decisions = decisions;
        this.limiter = limiter;
        this.spending = spending;
        this.budgetHolds = new BudgetHolds(limiter, spending);
    }

    @Override
    public StageName name() {
        return StageName.POLICY;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        var principal = exchange.get(Principal.KEY);
        if (principal.isEmpty()) {
            // Authentication must have run; without a principal there is nothing to decide for.
            return StageResult.shortCircuit(GatewayError.unauthenticated("No authenticated caller."));
        }
        EngineRequest engine = exchange.engineRequest();
        Map<String, Object> input = PolicyInput.of(principal.get(), exchange.incoming(), engine, exchange.receivedAt());
        PolicyDecisions.Answer answer = decide(input, principal.get(), exchange); // GatewayException (503) when OPA fails
        PolicyDecision decision = answer.decision();
        exchange.put(PolicyDecision.KEY, decision);
        exchange.put(DECISION_CACHED, answer.cached());
        if (decision.deniedOnlyForModel()) {
            // "Not yours" answers exactly as "does not exist" (routing's 404), so model names do not leak.
            return StageResult.shortCircuit(GatewayError.modelNotFound(exchange.incoming().model()));
        }
        if (decision.deniedOnlyForBudget()) {
            return StageResult.shortCircuit(overBudget(decision, exchange.receivedAt()));
        }
        if (!decision.allow()) {
            return StageResult.shortCircuit(denied(decision));
        }
        PolicyDecision.Limits limits = decision.limits();
        long prompt = ((Number) ((Map<?, ?>) input.get("request")).get("estimated_prompt_tokens")).longValue();
        long reserve = prompt + (engine == null ? 0 : Math.min(engine.maxTokens(), nullToMax(limits.maxTokens())));
        if (decision.budgeted()) {
            GatewayError overBudget = budgetHolds.hold(exchange, principal.get(), decision, prompt);
            if (overBudget != null) {
                return StageResult.shortCircuit(overBudget);
            }
        }
        // Throws GatewayException (503) when the shared limit store is down and the gateway refuses.
        LimitCounters.Admission admission;
        TenantLimits.Counted counted;
        try {
            counted = limiter.acquire(principal.get().tenant(), limits.requestsPerMinute(), limits.tokensPerMinute(),
                    reserve);
            admission = counted.admission();
        } catch (RuntimeException e) {
            budgetHolds.release(exchange);
            throw e;
        }
        if (!admission.admitted()) {
            budgetHolds.release(exchange);
            return StageResult.shortCircuit(GatewayError.rateLimited(
                    "Rate limit reached for this tenant (" + admission.limit() + "); retry after "
                            + admission.retryAfterSeconds() + " s.", admission.retryAfterSeconds())
                    .withDetail("limit", admission.limit()));
        }
        exchange.put(RESERVED_TOKENS, reserve);
        exchange.put(COUNTED_BY, counted.counters());
        exchange.put(PROMPT_TOKENS, prompt);
        if (engine != null && limits.maxTokens() != null && engine.maxTokens() > limits.maxTokens()) {
            return StageResult.forward(engine.withMaxTokens(limits.maxTokens()));
        }
        return StageResult.forward();
    }

    /**
     * Asks the policy, with the month-to-date usage in the input for a tenant with budgets. Whether
     * a tenant has budgets is the policy's to say: a decision made without usage that names budgets
     * is asked again with it, so a new budget applies from the first request after activation.
     */
    private PolicyDecisions.Answer decide(Map<String, Object> input, Principal principal, Exchange exchange) {
        String tenant = principal.tenant();
        YearMonth month = YearMonth.from(exchange.receivedAt().atZone(ZoneOffset.UTC));
        if (budgeted.contains(tenant)) {
            PolicyInput.addUsage(input, spending.monthToDate(tenant, principal.subject(), month));
        }
        PolicyDecisions.Answer answer = decisions.decide(input);
        if (!input.containsKey("usage") && answer.decision().budgeted()) {
            PolicyInput.addUsage(input, spending.monthToDate(tenant, principal.subject(), month));
            answer = decisions.decide(input);
        }
        if (answer.decision().budgeted()) {
            budgeted.add(tenant);
        } else if (answer.decision().allow()) {
            budgeted.remove(tenant);
        }
        return answer;
    }

    /** Counting what streamed is bookkeeping on the exchange: it never waits. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return false;
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        if (chunk.endOfStream() && chunk.usage() != null) {
            exchange.put(USAGE, chunk.usage());
        }
        if (chunk.text() != null && !chunk.text().isEmpty()) {
            exchange.put(STREAMED_CHARS, exchange.get(STREAMED_CHARS).orElse(0L) + chunk.text().length());
        }
        return ChunkResult.pass(chunk);
    }

    /**
     * Settles the reservation on what the request consumed: the engine's usage when it reported
     * one, else the prompt's estimate plus the answer that was streamed (about four characters a
     * token), plus an answer discarded for a retry of the model's refusal. Never a wholesale
     * refund: a client that disconnects, or an answer cut by output moderation, still pays for
     * what was processed.
     */
    @Override
    public void onComplete(Exchange exchange) {
        // Audit completes before policy (StageOrder runs onComplete in reverse), so the final record
        // and the usage it adds to the ledger are committed before the hold goes.
        budgetHolds.release(exchange);
        var reserved = exchange.get(RESERVED_TOKENS);
        var countedBy = exchange.get(COUNTED_BY);
        var decision = exchange.get(PolicyDecision.KEY);
        var principal = exchange.get(Principal.KEY);
        if (reserved.isEmpty() || countedBy.isEmpty() || decision.isEmpty() || principal.isEmpty()) {
            return;
        }
        long used = exchange.get(USAGE).map(u -> (long) u.totalTokens()).orElseGet(() -> consumedWithoutUsage(exchange))
                + exchange.get(Exchange.DISCARDED_USAGE).map(u -> (long) u.totalTokens()).orElse(0L);
        limiter.settle(countedBy.get(), principal.get().tenant(), decision.get().limits().tokensPerMinute(),
                reserved.get() - used);
    }

    static long consumedWithoutUsage(Exchange exchange) {
        long streamed = exchange.get(STREAMED_CHARS).orElse(0L);
        return exchange.get(PROMPT_TOKENS).orElse(0L) + (streamed + 3) / 4;
    }

    static GatewayError denied(PolicyDecision decision) {
        List<Map<String, String>> reasons = decision.reasons().stream()
                .map(r -> Map.of("code", r.code(), "message", r.message()))
                .toList();
        String summary = String.join(" ", decision.reasons().stream().map(PolicyDecision.Reason::message).toList());
        return GatewayError.forbidden("policy_denied", "Denied by tenant policy: " + summary)
                .withDetail("reasons", reasons);
    }

    /**
     * A used-up budget: 429 in OpenAI's quota shape, the policy's messages naming each budget, and
     * Retry-After pointing at the start of the next month (UTC), when monthly budgets start again.
     */
    static GatewayError overBudget(PolicyDecision decision, Instant now) {
        return overBudget(decision.reasons(), now);
    }

    static GatewayError overBudget(List<PolicyDecision.Reason> why, Instant now) {
        List<Map<String, String>> reasons = why.stream()
                .map(r -> Map.of("code", r.code(), "message", r.message()))
                .toList();
        String summary = String.join(" ", why.stream().map(PolicyDecision.Reason::message).toList());
        Instant nextMonth = YearMonth.from(now.atZone(ZoneOffset.UTC)).plusMonths(1).atDay(1)
                .atStartOfDay(ZoneOffset.UTC).toInstant();
        long retryAfter = Math.max(1, Duration.between(now, nextMonth).toSeconds());
        return new GatewayError(429, "insufficient_quota", PolicyDecision.BUDGET_EXCEEDED, null,
                "Budget exceeded: " + summary, Map.of("reasons", reasons),
                Map.of("Retry-After", Long.toString(retryAfter)));
    }

    private static int nullToMax(Integer limit) {
        return limit == null ? Integer.MAX_VALUE : limit;
    }
}
