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
import io.cleargate.refusal.RefusalKeys;
import io.cleargate.refusal.detector.RefusalVerdict;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns an exchange into audit entries: what the request was, what the stages decided, how it
 * ended, and the content in the tenant's audit content mode. Never logs any of it.
 */
@ApplicationScoped
public class Recorder {

    public static final String SYSTEM_CHAIN = "_system";
    /** Tag prefix of the model's own refusals ("model-refusal:deflection"); no moderation category has a hyphen-free clash. */
    static final String MODEL_REFUSAL_TAG = "model-refusal";

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
    AuditWriter.Draft request(Exchange ex) {
        return build(ex, "request", "in_progress", null, prompt(ex), null);
    }

    /** The final record of a request whose request record was committed. */
    AuditWriter.Draft finish(Exchange ex, String state, Exchange.Outcome outcome, EngineEvent.Usage usage,
            String releasedOutput) {
        return finish(ex, state, outcome, usage, releasedOutput, List.of());
    }

    /**
     * The final record. Tool calls are content: with any, the output kept is the JSON
     * {@code {"content": text, "tool_calls": [{id, name, arguments}]}} instead of the bare text, and
     * the record's metadata lists each call's id and function name.
     */
    AuditWriter.Draft finish(Exchange ex, String state, Exchange.Outcome outcome, EngineEvent.Usage usage,
            String releasedOutput, List<ToolCall> toolCalls) {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("outcome", outcome(outcome));
        extra.put("usage", usage == null ? null : Map.of("prompt_tokens", usage.promptTokens(),
                "completion_tokens", usage.completionTokens()));
        extra.put("latency_ms", latency(ex));
        extra.put("model_refusal", ex.get(RefusalKeys.VERDICT).map(Recorder::modelRefusal).orElse(null));
        String output = releasedOutput;
        if (!toolCalls.isEmpty()) {
            extra.put("tool_calls", toolCalls.stream().map(c -> Map.of("id", c.id(), "name", c.name())).toList());
            Map<String, Object> both = new LinkedHashMap<>();
            both.put("content", releasedOutput);
            both.put("tool_calls", toolCalls.stream().map(Recorder::call).toList());
            output = Canonical.json(both);
        }
        return build(ex, "final", state, extra, new Content("output", output), outcome.status());
    }

    /** A request refused before audit's own request phase ran (authentication, policy, input moderation). */
    AuditWriter.Draft refusal(Exchange ex) {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("outcome", outcome(ex.outcome()));
        extra.put("latency_ms", latency(ex));
        return build(ex, "refusal", "refused", extra, prompt(ex), ex.outcome() == null ? null : ex.outcome().status());
    }

    /** An administrative event. */
    AuditWriter.Draft admin(String tenant, String actor, String action, Map<String, Object> details) {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Map<String, Object> body = new LinkedHashMap<>();
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
    private static AuditWriter.Draft draft(String chain, Instant now, Map<String, Object> body, String stored,
            String mode, Instant contentExpiresAt, Instant metadataExpiresAt) {
        IndexColumns ix = IndexColumns.of(body);
        return new AuditWriter.Draft(chain, ix.kind(), ix.requestId(), now, ix.tenant(), ix.subject(), ix.model(),
                ix.region(), ix.decision(), ix.state(), ix.httpStatus(), ix.tags(), Canonical.storable(Canonical.json(body)),
                stored, mode, contentExpiresAt, metadataExpiresAt, ix.username(), ix.email());
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
        Map<String, Object> out = new LinkedHashMap<>();
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
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", c.id());
        out.put("name", c.name());
        out.put("arguments", c.arguments());
        return out;
    }

    private String mode(Exchange ex) {
        return ex.get(PolicyDecision.KEY).map(d -> d.audit() == null ? NONE : d.audit().contentMode()).orElse(NONE);
    }

    private AuditWriter.Draft build(Exchange ex, String kind, String state, Map<String, Object> extra, Content content,
            Integer status) {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Optional<Principal> principal = ex.get(Principal.KEY);
        Optional<PolicyDecision> decision = ex.get(PolicyDecision.KEY);
        Optional<Route> route = ex.get(Exchange.ROUTE);
        List<Verdict> verdicts = ex.get(ModerationKeys.VERDICTS).map(VerdictList::verdicts).orElse(List.of());
        String tenant = principal.map(Principal::tenant).orElse(null);
        String subject = principal.map(Principal::subject).orElse(null);

        Map<String, Object> body = new LinkedHashMap<>();
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
            Map<String, Object> m = new LinkedHashMap<>();
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
            contentRef = new LinkedHashMap<>();
            contentRef.put("field", content.field());
            contentRef.put("mode", mode);
            switch (mode) {
                case ENCRYPTED -> {
                    Keyring.Sealed sealed = keyring.encrypt(tenant, subject, content.text(),
                            associated(ex.requestId(), content.field()));
                    stored = sealed.ciphertext();
                    contentRef.put("key_id", sealed.keyId());
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
        body.put("retention_days", Map.of("content", contentDays, "metadata", metadataDays));

        return draft(tenant == null ? SYSTEM_CHAIN : tenant, now, body, stored, stored == null ? NONE : mode,
                now.plus(Duration.ofDays(contentDays)), now.plus(Duration.ofDays(metadataDays)));
    }

    /** Names are searched case-insensitively: stored lower-cased (Principal already bounds them). */
    static String person(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    static String associated(String requestId, String field) {
        return "audit|" + requestId + "|" + field;
    }

    private static Map<String, Object> policy(PolicyDecision d) {
        Map<String, Object> m = new LinkedHashMap<>();
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
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rule_id", v.ruleId());
        m.put("category", v.category());
        m.put("action", v.action().name().toLowerCase(Locale.ROOT));
        m.put("direction", v.direction().name().toLowerCase(Locale.ROOT));
        m.put("start", v.start());
        m.put("end", v.end());
        m.put("score", v.score());
        return m;
    }

    /** The model's own refusal verdict: kind, evidence span and score, never the text. */
    private static Map<String, Object> modelRefusal(RefusalVerdict v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", v.kind().id());
        m.put("declined", v.declined());
        m.put("score", v.score());
        m.put("language", v.language());
        m.put("start", v.start());
        m.put("end", v.end());
        m.put("cue", v.cue());
        return m;
    }

    private static Map<String, Object> outcome(Exchange.Outcome o) {
        Map<String, Object> m = new LinkedHashMap<>();
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
        Map<String, Object> m = new LinkedHashMap<>();
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
