package io.cleargate.policy;

import io.cleargate.domain.EngineRequest;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Holds a budgeted tenant's requests in flight against its monthly budgets, so that requests in
 * flight cannot together overshoot a budget. A request holds the most it may consume (estimated
 * prompt plus max_tokens times n, and that at the model's price) where rate limits are counted
 * (the shared store, or this replica's memory), is admitted only if the ledger's usage plus
 * everything held fits every budget, and gives its hold back when it ends.
 *
 * <p>Order matters. The hold is added and the totals read in one atomic step, and the ledger is
 * read after it: a request that ends gives its hold back only after its final audit record (and
 * with it its usage) is committed, because audit completes before policy (StageOrder runs
 * {@code onComplete} in reverse). So usage is never in neither place, and of requests racing for
 * the rest of a budget each sees the holds placed before its own.
 */
final class BudgetHolds {

    /**
     * How long a hold lasts when nobody gives it back (a replica that stopped mid-request): longer
     * than any request may take, so a live request's hold never lapses.
     */
    static final Duration TTL = Duration.ofMinutes(15);

    /** Seconds a request refused only for others' holds is told to wait: it fits once they end. */
    static final long IN_FLIGHT_RETRY_SECONDS = 2;

    /** Where a request's hold is kept, to give it back there. */
    record Hold(String id, String tenant, LimitCounters counters) {}

    static final Exchange.Key<Hold> KEY = Exchange.Key.of("policy-budget-hold", Hold.class);

    /** What one request holds: tokens, and their cost in nano-units of the policy's currency. */
    record Amount(long tokens, long costNanos) {}

    private final TenantLimits limiter;
    private final Spending spending;

    BudgetHolds(TenantLimits limiter, Spending spending) {
        this.limiter = limiter;
        this.spending = spending;
    }

    /**
     * Holds the request against the decision's budgets. Returns null when it fits (the hold is then
     * on the exchange), else the 429 to answer with (and nothing is held).
     */
    GatewayError hold(Exchange exchange, Principal principal, PolicyDecision decision, long promptTokens) {
        Amount mine = amount(exchange.engineRequest(), decision, promptTokens);
        var holding = limiter.hold(principal.tenant(), principal.subject(), exchange.requestId(), mine.tokens(),
                mine.costNanos(), TTL);
        exchange.put(KEY, new Hold(exchange.requestId(), principal.tenant(), holding.counters()));
        Spending.MonthToDate used;
        try {
            used = spending.monthToDate(principal.tenant(), principal.subject(),
                    YearMonth.from(exchange.receivedAt().atZone(ZoneOffset.UTC)));
        } catch (RuntimeException e) {
            release(exchange);
            throw e;
        }
        for (PolicyDecision.Budget budget : decision.budgets()) {
            Shortfall shortfall = shortfall(budget, used, holding.held(), mine, decision.price());
            if (shortfall != null) {
                release(exchange);
                return shortfall.error(exchange);
            }
        }
        return null;
    }

    /** Gives the request's hold back, if it has one. */
    void release(Exchange exchange) {
        var hold = exchange.get(KEY);
        if (hold.isPresent()) {
            exchange.remove(KEY);
            limiter.release(hold.get().counters(), hold.get().tenant(), hold.get().id());
        }
    }

    /** The most a request may consume: its prompt, and max_tokens (the tenant's ceiling applied) for each choice. */
    static Amount amount(EngineRequest engine, PolicyDecision decision, long promptTokens) {
        long completion = 0;
        if (engine != null && engine.kind() != EngineRequest.Kind.EMBEDDINGS) {
            Integer ceiling = decision.limits().maxTokens();
            Integer n = engine.options().n();
            completion = (long) Math.min(engine.maxTokens(), ceiling == null ? Integer.MAX_VALUE : ceiling)
                    * (n == null || n < 1 ? 1 : n);
        }
        long cost = decision.price() == null ? 0 : decision.price().costNanos(promptTokens, completion);
        return new Amount(promptTokens + completion, cost);
    }

    /** Why a budget cannot hold the request, and whether it could without the other requests in flight. */
    private record Shortfall(String message, boolean fitsAlone) {
        GatewayError error(Exchange exchange) {
            var reason = new PolicyDecision.Reason(PolicyDecision.BUDGET_EXCEEDED, message);
            GatewayError monthly = PolicyStage.overBudget(List.of(reason), exchange.receivedAt());
            if (!fitsAlone) {
                return monthly; // cannot fit this month as asked (a smaller max_tokens may)
            }
            return new GatewayError(monthly.status(), monthly.type(), monthly.code(), monthly.param(), monthly.message(),
                    monthly.details(), Map.of("Retry-After", Long.toString(IN_FLIGHT_RETRY_SECONDS)));
        }
    }

    /** Null when the budget holds usage plus everything held; else the shortfall, described. */
    private static Shortfall shortfall(PolicyDecision.Budget budget, Spending.MonthToDate used, LimitCounters.Held held,
            Amount mine, PolicyDecision.Price price) {
        boolean whole = "tenant".equals(budget.scope());
        Spending.Spent spent = whole ? used.tenant() : used.key();
        String scope = whole ? "tenant" : "API key or user";
        if (budget.tokens() != null) {
            long inFlight = whole ? held.tenantTokens() : held.subjectTokens();
            if (spent.tokens() + inFlight <= budget.tokens()) {
                return null;
            }
            return new Shortfall(String.format(Locale.ROOT,
                    "The monthly token budget '%s' of this %s (%d tokens) cannot hold this request: %d tokens used in"
                            + " %s, %d held by other requests in flight, up to %d for this one.",
                    budget.name(), scope, budget.tokens(), spent.tokens(), used.month(), inFlight - mine.tokens(),
                    mine.tokens()), spent.tokens() + mine.tokens() <= budget.tokens());
        }
        long inFlight = whole ? held.tenantCostNanos() : held.subjectCostNanos();
        if (spent.cost() + inFlight / 1e9 <= budget.cost()) {
            return null;
        }
        String currency = price == null ? "" : " " + price.currency();
        return new Shortfall(String.format(Locale.ROOT,
                "The monthly spending budget '%s' of this %s (%.2f%s) cannot hold this request: %.4f%s spent in %s,"
                        + " %.4f%s held by other requests in flight, up to %.4f%s for this one.",
                budget.name(), scope, budget.cost(), currency, spent.cost(), currency, used.month(),
                (inFlight - mine.costNanos()) / 1e9, currency, mine.costNanos() / 1e9, currency),
                spent.cost() + mine.costNanos() / 1e9 <= budget.cost());
    }
}
