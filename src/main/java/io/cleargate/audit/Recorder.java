package io.cleargate.audit;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.Route;
import io.cleargate.domain.ToolCall;
import io.cleargate.identity.Principal;
import io.cleargate.moderation.ModerationKeys;
import io.cleargate.moderation.Verdict;
import io.cleargate.moderation.VerdictList;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.policy.PolicyInput;
import io.cleargate.refusal.ModelRefusalStage;
import io.cleargate.refusal.RefusalHandling;
import io.cleargate.refusal.RefusalKeys;
import io.cleargate.refusal.detector.RefusalVerdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns an exchange into audit entries: what the request was, what the stages decided, how it
 * ended, and the content in the tenant's audit content mode. Never logs any of it. Bodies are built
 * as TreeMaps: the canonical encoding sorts keys, and Jackson copies any other map into a sorted
 * one before writing it.
 */
@ApplicationScoped
public class Recorder {

    public static final String SYSTEM_CHAIN = "_system";
    /** Tag prefix of the model's own refusals ("model-refusal:deflection"); no moderation category has a hyphen-free clash. */
    static final String MODEL_REFUSAL_TAG = "model-refusal";
    /** A model_refusal's retry outcome when the answer was asked again elsewhere (tagged "model-refusal:retried"). */
    static final String RETRIED = RefusalHandling.RETRIED;

    /** Content modes, as named by PolicyDecision.AuditSettings.contentMode(). */
    public static final String ENCRYPTED = "encrypted";
    public static final String REDACTED = "redacted";
    public static final String HASH_ONLY = "hash-only";
    public static final String NONE = "none";

    private final Keyring keyring;
    private final AuditConfig config;

    @Inject
    public Recorder(Keyring keyring, AuditConfig config) {
        this.keyring = keyring;
        this.config = config;
    }

    /** The request record, committed before the engine is called. */
    Draft request(Exchange ex) {
        return build(ex, "request", "in_progress", null, prompt(ex), null);
    }

    /** The final record of a request whose request record was committed. */
    Draft finish(Exchange ex, String state, Exchange.Outcome outcome, EngineEvent.Usage usage,
            String releasedOutput) {
        return finish(ex, state, outcome, usage, releasedOutput, List.of());
    }

    /**
     * The final record. Tool calls are content: with any, the output kept is the JSON
     * {@code {"content": text, "tool_calls": [{id, name, arguments}]}} instead of the bare text, and
     * the record's metadata lists each call's id and function name.
     */
    Draft finish(Exchange ex, String state, Exchange.Outcome outcome, EngineEvent.Usage usage,
            String releasedOutput, List<ToolCall> toolCalls) {
        String output = releasedOutput;
        if (!toolCalls.isEmpty()) {
            Map<String, Object> both = new TreeMap<>();
            both.put("content", releasedOutput);
            both.put("tool_calls", toolCalls.stream().map(Recorder::call).toList());
            output = Canonical.json(both);
        }
        return finalRecord(ex, state, outcome, usage, output, toolCalls);
    }

    /** One choice of several (n > 1), as it was released to the client. */
    record ReleasedChoice(int index, String content, List<ToolCall> toolCalls, String finishReason) {}

    /**
     * The final record of a request for several choices: the output kept is the JSON
     * {@code {"choices": [{index, content, tool_calls, finish_reason}]}}, and the metadata lists the
     * calls of every choice.
     */
    Draft finishChoices(Exchange ex, String state, Exchange.Outcome outcome, EngineEvent.Usage usage,
            List<ReleasedChoice> choices) {
        List<Map<String, Object>> wire = new ArrayList<>();
        List<ToolCall> calls = new ArrayList<>();
        for (ReleasedChoice c : choices) {
            Map<String, Object> m = new TreeMap<>();
            m.put("index", c.index());
            m.put("content", c.content());
            m.put("tool_calls", c.toolCalls().stream().map(Recorder::call).toList());
            m.put("finish_reason", c.finishReason());
            wire.add(m);
            calls.addAll(c.toolCalls());
        }
        Consumed consumed = consumed(ex, usage);
        return finalRecord(ex, state, outcome, consumed, Canonical.json(Map.of("choices", wire)), calls,
                consumed == null ? null : choiceUsage(consumed.completionTokens(), choices));
    }

    /**
     * Upstreams report one usage for all the choices of a request. The record splits the completion
     * tokens among the choices in proportion to the characters each released (text and call
     * arguments), whole tokens that add up to the total, and says it is an estimate; the prompt is
     * read once, for all of them, and is not split.
     */
    static Map<String, Object> choiceUsage(long completionTokens, List<ReleasedChoice> choices) {
        long[] weights = new long[choices.size()];
        for (int i = 0; i < weights.length; i++) {
            ReleasedChoice c = choices.get(i);
            weights[i] = c.content().length() + c.toolCalls().stream().mapToLong(t -> t.arguments().length()).sum();
        }
        long[] split = splitInProportion(completionTokens, weights);
        List<Map<String, Object>> per = new ArrayList<>();
        for (int i = 0; i < split.length; i++) {
            per.add(Map.of("index", choices.get(i).index(), "completion_tokens", split[i]));
        }
        Map<String, Object> out = new TreeMap<>();
        out.put("estimated", true);
        out.put("basis", "released_characters");
        out.put("choices", per);
        return out;
    }

    /**
     * {@code total} in whole parts proportional to {@code weights} (equal parts when every weight
     * is 0), by largest remainder: the parts add up to {@code total} exactly, and ties go to the
     * earlier part.
     */
    static long[] splitInProportion(long total, long[] weights) {
        int n = weights.length;
        long[] parts = new long[n];
        if (n == 0) {
            return parts;
        }
        long sum = 0;
        for (long w : weights) {
            sum += w;
        }
        long[] w = weights.clone();
        if (sum == 0) {
            java.util.Arrays.fill(w, 1);
            sum = n;
        }
        long given = 0;
        java.math.BigInteger bigTotal = java.math.BigInteger.valueOf(total);
        long[] remainders = new long[n];
        for (int i = 0; i < n; i++) {
            var qr = bigTotal.multiply(java.math.BigInteger.valueOf(w[i])).divideAndRemainder(java.math.BigInteger.valueOf(sum));
            parts[i] = qr[0].longValueExact();
            remainders[i] = qr[1].longValueExact();
            given += parts[i];
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> remainders[a] != remainders[b] ? Long.compare(remainders[b], remainders[a])
                : Integer.compare(a, b));
        for (int k = 0; given < total; k++, given++) {
            parts[order[k % n]]++;
        }
        return parts;
    }

    private Draft finalRecord(Exchange ex, String state, Exchange.Outcome outcome, EngineEvent.Usage usage,
            String output, List<ToolCall> toolCalls) {
        return finalRecord(ex, state, outcome, consumed(ex, usage), output, toolCalls, null);
    }

    private Draft finalRecord(Exchange ex, String state, Exchange.Outcome outcome, Consumed consumed,
            String output, List<ToolCall> toolCalls, Map<String, Object> choiceUsage) {
        Map<String, Object> extra = new TreeMap<>();
        extra.put("outcome", outcome(outcome));
        extra.put("usage", null); // replaced by build() once the record's time (and so its month) is fixed
        if (choiceUsage != null) {
            extra.put("choice_usage", choiceUsage);
        }
        extra.put("latency_ms", latency(ex));
        extra.put("model_refusal", modelRefusal(ex));
        if (!toolCalls.isEmpty()) {
            extra.put("tool_calls", toolCalls.stream().map(c -> Map.of("id", c.id(), "name", c.name())).toList());
        }
        return build(ex, "final", state, extra, new Content("output", output), outcome.status(), consumed);
    }

    /** Tokens a request consumed, before they are priced and dated. */
    private record Consumed(long promptTokens, long completionTokens, boolean estimated) {}

    /**
     * What the request consumed: the engine's usage when it reported one (an unknown prompt count
     * estimated), else, when a backend answered at all, an estimate from the prompt and the text the
     * engine produced before the answer stopped (content filter, client gone, upstream failure):
     * about four characters a token. A request no backend answered consumed nothing.
     */
    private static Consumed consumed(Exchange ex, EngineEvent.Usage usage) {
        if (usage != null) {
            long prompt = usage.promptTokens() >= 0 ? usage.promptTokens() : estimatedPrompt(ex);
            return new Consumed(prompt, usage.completionTokens(), usage.promptTokens() < 0);
        }
        if (ex.get(Exchange.ROUTE).isEmpty()) {
            return null;
        }
        return new Consumed(estimatedPrompt(ex), (ex.engineOutputChars() + 3) / 4, true);
    }

    private static long estimatedPrompt(Exchange ex) {
        return PolicyInput.estimatePromptTokens(ex.engineRequest().messages());
    }

    private static Charge charge(Exchange ex, Consumed consumed, Instant now) {
        Principal principal = ex.get(Principal.KEY).orElse(null);
        if (consumed == null || principal == null) {
            return null;
        }
        PolicyDecision.Price price = ex.get(PolicyDecision.KEY).map(PolicyDecision::price).orElse(null);
        // Stored as the record's body stores them (NUL and lone surrogates replaced), so the ledger's
        // keys are what a rebuild from the trail reads back, and PostgreSQL accepts them.
        return new Charge(principal.tenant(), Canonical.storable(principal.subject()),
                ex.incoming().model() == null ? "" : Canonical.storable(ex.incoming().model()),
                YearMonth.from(now.atZone(ZoneOffset.UTC)),
                consumed.promptTokens(), consumed.completionTokens(),
                price == null ? 0 : price.costNanos(consumed.promptTokens(), consumed.completionTokens()),
                price == null ? null : price.currency(), consumed.estimated());
    }

    /** A request refused before audit's own request phase ran (authentication, policy, input moderation). */
    Draft refusal(Exchange ex) {
        Map<String, Object> extra = new TreeMap<>();
        extra.put("outcome", outcome(ex.outcome()));
        extra.put("latency_ms", latency(ex));
        return build(ex, "refusal", "refused", extra, prompt(ex), ex.outcome() == null ? null : ex.outcome().status());
    }

    /** An administrative event. */
    Draft admin(String tenant, String actor, String action, Map<String, Object> details) {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Map<String, Object> body = new TreeMap<>();
        body.put("v", 1);
        body.put("kind", "admin");
        body.put("time", now.toString());
        body.put("tenant", tenant);
        body.put("actor", actor);
        body.put("action", action);
        body.put("details", details == null ? Map.of() : details);
        String chain = tenant == null ? SYSTEM_CHAIN : tenant;
        return draft(chain, now, body, null, NONE, null, now.plus(Duration.ofDays(config.defaultMetadataRetentionDays())));
    }

    /**
     * The entry as stored: the body as storable canonical JSON, and the searchable columns derived
     * from it exactly as the verifier derives them, bounded to their widths.
     */
    private static Draft draft(String chain, Instant now, Map<String, Object> body, String stored,
            String mode, Instant contentExpiresAt, Instant metadataExpiresAt) {
        return draft(chain, now, body, stored, mode, contentExpiresAt, metadataExpiresAt, null);
    }

    /** As above, with what the entry charges to the usage ledger (null: nothing). */
    private static Draft draft(String chain, Instant now, Map<String, Object> body, String stored,
            String mode, Instant contentExpiresAt, Instant metadataExpiresAt, Charge charge) {
        IndexColumns ix = IndexColumns.of(body);
        return new Draft(chain, ix.kind(), ix.requestId(), now, ix.tenant(), ix.subject(), ix.model(),
                ix.region(), ix.decision(), ix.state(), ix.httpStatus(), ix.tags(), Canonical.storable(Canonical.json(body)),
                stored, mode, contentExpiresAt, metadataExpiresAt, ix.username(), ix.email(), charge);
    }

    private record Content(String field, String text) {}

    private Content prompt(Exchange ex) {
        // Redacted mode keeps what the engine was sent (after input moderation); the other modes the raw prompt.
        List<ChatMessage> messages = REDACTED.equals(mode(ex))
                ? ex.engineRequest().messages() : ex.sentRequest().messages();
        List<Map<String, Object>> wire = messages.stream().map(Recorder::message).toList();
        return new Content("prompt", Canonical.json(wire));
    }

    /** A message as the audit keeps it: role and content, plus tool calls or the call answered when present. */
    private static Map<String, Object> message(ChatMessage m) {
        Map<String, Object> out = new TreeMap<>();
        out.put("role", m.role().wireName());
        out.put("content", m.content());
        if (!m.toolCalls().isEmpty()) {
            out.put("tool_calls", m.toolCalls().stream().map(Recorder::call).toList());
        }
        if (m.toolCallId() != null) {
            out.put("tool_call_id", m.toolCallId());
        }
        return out;
    }

    private static Map<String, Object> call(ToolCall c) {
        Map<String, Object> out = new TreeMap<>();
        out.put("id", c.id());
        out.put("name", c.name());
        out.put("arguments", c.arguments());
        return out;
    }

    private String mode(Exchange ex) {
        return ex.get(PolicyDecision.KEY).map(d -> d.audit() == null ? NONE : d.audit().contentMode()).orElse(NONE);
    }

    private Draft build(Exchange ex, String kind, String state, Map<String, Object> extra, Content content,
            Integer status) {
        return build(ex, kind, state, extra, content, status, null);
    }

    private Draft build(Exchange ex, String kind, String state, Map<String, Object> extra, Content content,
            Integer status, Consumed consumed) {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Charge charge = charge(ex, consumed, now);
        if (extra != null && extra.containsKey("usage")) {
            extra.put("usage", charge == null ? null : charge.toBody());
        }
        Optional<Principal> principal = ex.get(Principal.KEY);
        Optional<PolicyDecision> decision = ex.get(PolicyDecision.KEY);
        Optional<Route> route = ex.get(Exchange.ROUTE);
        List<Verdict> verdicts = ex.get(ModerationKeys.VERDICTS).map(VerdictList::verdicts).orElse(List.of());
        String tenant = principal.map(Principal::tenant).orElse(null);
        String subject = principal.map(Principal::subject).orElse(null);

        Map<String, Object> body = new TreeMap<>();
        body.put("v", 1);
        body.put("kind", kind);
        body.put("request_id", ex.requestId());
        body.put("time", now.toString());
        body.put("received_at", ex.receivedAt().toString());
        body.put("tenant", tenant);
        body.put("subject", subject);
        body.put("username", principal.map(Principal::username).map(Recorder::person).orElse(null));
        body.put("email", principal.map(Principal::email).map(Recorder::person).orElse(null));
        body.put("auth_method", principal.map(p -> p.authMethod().name().toLowerCase(Locale.ROOT)).orElse(null));
        body.put("client_address", ex.incoming().clientAddress());
        body.put("endpoint", ex.incoming().endpoint());
        body.put("model", ex.incoming().model());
        body.put("stream", ex.incoming().stream());
        body.put("parameters", ex.incoming().parameters());
        body.put("policy", decision.map(Recorder::policy).orElse(null));
        body.put("policy_input", decision.map(PolicyDecision::input).orElse(null));
        body.put("verdicts", verdicts.stream().map(Recorder::verdict).toList());
        body.put("route", route.map(r -> {
            Map<String, Object> m = new TreeMap<>();
            m.put("backend", r.backendId());
            m.put("region", r.region());
            m.put("jurisdiction", r.jurisdiction());
            return m;
        }).orElse(null));
        body.put("state", state);
        if (extra != null) {
            body.putAll(extra);
        }

        String mode = tenant == null ? NONE : mode(ex);
        String stored = null;
        Map<String, Object> contentRef = null;
        if (!NONE.equals(mode) && content.text() != null) {
            contentRef = new TreeMap<>();
            contentRef.put("field", content.field());
            contentRef.put("mode", mode);
            switch (mode) {
                case ENCRYPTED -> {
                    byte[] plain = content.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    byte[] packed = deflated(plain);
                    Keyring.Sealed sealed = keyring.encrypt(tenant, subject, packed == null ? plain : packed,
                            associated(ex.requestId(), content.field()));
                    stored = sealed.ciphertext();
                    contentRef.put("key_id", sealed.keyId());
                    if (packed != null) {
                        contentRef.put("encoding", DEFLATE);
                    }
                }
                case HASH_ONLY -> stored = keyring.hmac(tenant, content.text());
                case REDACTED -> stored = Canonical.storable(content.text());
                default -> throw new IllegalStateException("unknown audit content mode " + mode);
            }
            contentRef.put("sha256", Canonical.sha256(stored));
        }
        body.put("content", contentRef);
        var settings = decision.map(PolicyDecision::audit);
        int contentDays = settings.map(PolicyDecision.AuditSettings::contentRetentionDays).orElse(0);
        int metadataDays = settings.map(PolicyDecision.AuditSettings::metadataRetentionDays)
                .orElse(config.defaultMetadataRetentionDays());
        Map<String, Object> retention = new TreeMap<>(); // sorted maps are written without Jackson's sorted copy
        retention.put("content", contentDays);
        retention.put("metadata", metadataDays);
        body.put("retention_days", retention);

        return draft(tenant == null ? SYSTEM_CHAIN : tenant, now, body, stored, stored == null ? NONE : mode,
                now.plus(Duration.ofDays(contentDays)), now.plus(Duration.ofDays(metadataDays)), charge);
    }

    /** Encrypted content deflated before encryption (raw DEFLATE, no dictionary); the body's content.encoding says so. */
    static final String DEFLATE = "deflate";
    /** Shorter texts rarely shrink by more than deflate's own overhead. */
    private static final int DEFLATE_FROM = 128;

    /** The deflated text, or null when it is short or would not shrink (already compressed, random). */
    static byte[] deflated(byte[] plain) {
        if (plain.length < DEFLATE_FROM) {
            return null;
        }
        byte[] packed = StoredBody.deflate(plain, null);
        return packed.length < plain.length ? packed : null;
    }

    /** Names are searched case-insensitively: stored lower-cased (Principal already bounds them). */
    static String person(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    static String associated(String requestId, String field) {
        return "audit|" + requestId + "|" + field;
    }

    private static Map<String, Object> policy(PolicyDecision d) {
        Map<String, Object> m = new TreeMap<>();
        m.put("allow", d.allow());
        m.put("reasons", d.reasons().stream().map(r -> Map.of("code", String.valueOf(r.code()),
                "message", String.valueOf(r.message()))).toList());
        m.put("decision_id", d.decisionId());
        m.put("bundle_revision", d.bundleRevision());
        m.put("regions", d.regions());
        m.put("content_mode", d.audit() == null ? null : d.audit().contentMode());
        return m;
    }

    private static Map<String, Object> verdict(Verdict v) {
        Map<String, Object> m = new TreeMap<>();
        m.put("rule_id", v.ruleId());
        m.put("category", v.category());
        m.put("action", v.action().name().toLowerCase(Locale.ROOT));
        m.put("direction", v.direction().name().toLowerCase(Locale.ROOT));
        m.put("start", v.start());
        m.put("end", v.end());
        m.put("score", v.score());
        return m;
    }

    /**
     * The model's verdict; when the tenant's filter ended the answer before the model did, the
     * verdict on what the model had said by then, marked {@code "answer_complete": false}.
     */
    private static Map<String, Object> modelRefusal(Exchange ex) {
        var verdict = ex.get(RefusalKeys.VERDICT);
        if (verdict.isPresent()) {
            return modelRefusal(verdict.get(), ex.get(RefusalKeys.HANDLING).orElse(null));
        }
        return ModelRefusalStage.judgedSoFar(ex).map(v -> {
            Map<String, Object> m = modelRefusal(v, ex.get(RefusalKeys.HANDLING).orElse(null));
            m.put("answer_complete", false);
            return m;
        }).orElse(null);
    }

    /**
     * The model's own refusal verdict (kind, evidence span and score, never the text) and what the
     * tenant's policy did about it: the action, whether the caller was told, and for a retry the
     * discarded answers with their backend, verdict and token usage.
     */
    private static Map<String, Object> modelRefusal(RefusalVerdict v, RefusalHandling h) {
        Map<String, Object> m = v.fields();
        if (h != null) {
            m.put("action", h.action());
            m.put("flagged", h.flagged());
            if (h.retry() != null) {
                m.put("retry", h.retry());
                m.put("attempts", h.earlier().stream().map(Recorder::attempt).toList());
            }
        }
        return m;
    }

    private static Map<String, Object> attempt(RefusalHandling.Attempt a) {
        Map<String, Object> m = new TreeMap<>();
        Route r = a.route();
        m.put("backend", r == null ? null : r.backendId());
        m.put("region", r == null ? null : r.region());
        m.put("jurisdiction", r == null ? null : r.jurisdiction());
        m.put("verdict", a.verdict().fields());
        m.put("usage", a.usage() == null ? null : Map.of("prompt_tokens", a.usage().promptTokens(),
                "completion_tokens", a.usage().completionTokens()));
        return m;
    }

    private static Map<String, Object> outcome(Exchange.Outcome o) {
        Map<String, Object> m = new TreeMap<>();
        if (o == null) {
            return m;
        }
        GatewayError error = o.error();
        m.put("status", o.status());
        m.put("error_code", error == null ? null : error.code());
        m.put("error_type", error == null ? null : error.type());
        m.put("finish_reason", o.finishReason());
        m.put("complete", o.complete());
        m.put("stopped_by", o.stoppedBy());
        return m;
    }

    private static Map<String, Object> latency(Exchange ex) {
        Map<String, Object> m = new TreeMap<>();
        m.put("ttft", ex.timeToFirstByteMillis());
        m.put("total", ex.elapsedMillis());
        return m;
    }

    static String tag(String s) {
        return s == null ? "" : s.replace('|', '_').replace(':', '_');
    }

    static List<String> reasonsOf(Map<String, Object> body) {
        List<String> out = new ArrayList<>();
        if (body.get("policy") instanceof Map<?, ?> p && Boolean.FALSE.equals(p.get("allow"))
                && p.get("reasons") instanceof List<?> reasons) {
            for (Object r : reasons) {
                if (r instanceof Map<?, ?> m) {
                    out.add(String.valueOf(m.get("code")));
                }
            }
        }
        return out;
    }
}
