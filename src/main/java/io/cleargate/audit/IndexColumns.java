package io.cleargate.audit;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The searchable columns of an audit entry, as a function of its body. The writer stores them and
 * the verifier recomputes them, so an edited column (a subject, a region, a decision changed to
 * hide a record from a search) shows as a mismatch with the hashed body.
 */
record IndexColumns(String kind, String requestId, String time, String tenant, String subject, String model,
        String region, String decision, String state, Integer httpStatus, String tags, String username, String email) {

    static final int MAX_TAGS = 4000;

    /** Cuts every column to its width in V100__audit.sql and V113__audit_person.sql, as storable text, so no value can fail an insert. */
    IndexColumns {
        kind = column(kind, 20);
        requestId = column(requestId, 200);
        tenant = column(tenant, 200);
        subject = column(subject, 400);
        model = column(model, 200);
        region = column(region, 100);
        decision = column(decision, 10);
        state = column(state, 20);
        tags = column(tags, MAX_TAGS);
        username = column(username, 200);
        email = column(email, 200);
    }

    private static String column(String value, int width) {
        if (value == null) {
            return null;
        }
        String cut = value.length() > width ? value.substring(0, width) : value;
        return Canonical.storable(cut);
    }

    static IndexColumns of(Map<String, ?> body) {
        String kind = text(body.get("kind"));
        if ("admin".equals(kind)) {
            return new IndexColumns(kind, null, text(body.get("time")), text(body.get("tenant")), text(body.get("actor")),
                    null, null, "none", "complete", null, "|admin:" + Recorder.tag(text(body.get("action"))) + "|", null,
                    null);
        }
        String region = body.get("route") instanceof Map<?, ?> route ? text(route.get("region")) : null;
        String decision = body.get("policy") instanceof Map<?, ?> policy
                ? (Boolean.TRUE.equals(policy.get("allow")) ? "allow" : "deny") : "none";
        Integer status = body.get("outcome") instanceof Map<?, ?> outcome && outcome.get("status") instanceof Number n
                ? n.intValue() : null;
        return new IndexColumns(kind, text(body.get("request_id")), text(body.get("time")), text(body.get("tenant")),
                text(body.get("subject")), text(body.get("model")), region, decision, text(body.get("state")), status,
                tags(body), text(body.get("username")), text(body.get("email")));
    }

    /** Search tags: "|category:action|...|reason:code|model-refusal:kind|", matched with LIKE on escaped parameters. */
    private static String tags(Map<String, ?> body) {
        StringBuilder sb = new StringBuilder("|");
        if (body.get("verdicts") instanceof List<?> verdicts) {
            for (Object v : verdicts) {
                if (v instanceof Map<?, ?> m) {
                    sb.append(Recorder.tag(text(m.get("category")))).append(':').append(text(m.get("action"))).append('|');
                }
            }
        }
        if (body.get("policy") instanceof Map<?, ?> p && Boolean.FALSE.equals(p.get("allow"))
                && p.get("reasons") instanceof List<?> reasons) {
            for (Object r : reasons) {
                if (r instanceof Map<?, ?> m) {
                    sb.append("reason:").append(Recorder.tag(text(m.get("code")))).append('|');
                }
            }
        }
        // The model's own refusal, when it declined (final records only).
        if (body.get("model_refusal") instanceof Map<?, ?> refusal && !"none".equals(refusal.get("kind"))) {
            sb.append(Recorder.MODEL_REFUSAL_TAG).append(':').append(Recorder.tag(text(refusal.get("kind")))).append('|');
        }
        String s = sb.toString();
        return s.length() > MAX_TAGS ? s.substring(0, MAX_TAGS - 1) + "|" : s;
    }

    /** The columns a metadata purge leaves: the body is gone, so nothing that came from it stays searchable. */
    static boolean purgedShape(AuditEntry e) {
        return e.subject == null && e.username == null && e.email == null && e.model == null && e.region == null
                && "|".equals(e.tags);
    }

    /** Null when the entry's columns are what its body says; else the first column that differs. */
    String mismatch(AuditEntry e) {
        String time = e.recordedAt == null ? null : e.recordedAt.toString();
        Object[][] pairs = {
            {"kind", kind, e.kind}, {"request_id", requestId, e.requestId}, {"recorded_at", this.time, time},
            {"tenant", tenant, e.tenant}, {"subject", subject, e.subject}, {"model", model, e.model},
            {"region", region, e.region}, {"decision", decision, e.decision}, {"state", state, e.state},
            {"http_status", httpStatus, e.httpStatus}, {"tags", tags, e.tags}, {"username", username, e.username},
            {"email", email, e.email},
        };
        for (Object[] p : pairs) {
            if (!Objects.equals(p[1], p[2])) {
                return (String) p[0];
            }
        }
        return null;
    }

    private static String text(Object o) {
        return o == null ? null : o.toString();
    }
}
