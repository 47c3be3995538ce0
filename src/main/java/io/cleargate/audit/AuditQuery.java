package io.cleargate.audit;

import jakarta.persistence.EntityManager;
import jakarta.persistence.TypedQuery;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Search filters turned into one JPQL query with bound parameters only (no value is ever
 * concatenated into the query text). {@code tenant} null means all tenants (auditors only).
 */
public record AuditQuery(String tenant, Instant from, Instant to, String subject, String model, String region,
        String decision, String category, String action, String status, String kind, String requestId, Long after,
        int limit, String person) {

    /** A query that names no person. */
    public AuditQuery(String tenant, Instant from, Instant to, String subject, String model, String region,
            String decision, String category, String action, String status, String kind, String requestId, Long after,
            int limit) {
        this(tenant, from, to, subject, model, region, decision, category, action, status, kind, requestId, after,
                limit, null);
    }

    public TypedQuery<AuditEntry> build(EntityManager em) {
        // One row per request: its final record once there is one, else its request record.
        StringBuilder q = new StringBuilder("select e from AuditEntry e where not (e.kind = 'request' and exists"
                + " (select 1 from AuditEntry f where f.requestId = e.requestId and f.chainId = e.chainId"
                + " and f.kind = 'final'))");
        Map<String, Object> p = new LinkedHashMap<>();
        eq(q, p, "tenant", tenant);
        eq(q, p, "subject", subject);
        eq(q, p, "model", model);
        eq(q, p, "region", region);
        eq(q, p, "decision", decision);
        eq(q, p, "kind", kind);
        eq(q, p, "requestId", requestId);
        if (person != null && !person.isBlank()) {
            // The user name or e-mail recorded at authentication, or the subject id itself.
            q.append(" and (e.username = :person or e.email = :person or e.subject = :personId)");
            p.put("person", Recorder.person(person.strip()));
            p.put("personId", person.strip());
        }
        if (status != null) {
            if (status.chars().allMatch(Character::isDigit) && !status.isEmpty()) {
                q.append(" and e.httpStatus = :status");
                p.put("status", Integer.parseInt(status));
            } else {
                eq(q, p, "state", status);
            }
        }
        if (from != null) {
            q.append(" and e.recordedAt >= :from");
            p.put("from", from);
        }
        if (to != null) {
            q.append(" and e.recordedAt < :to");
            p.put("to", to);
        }
        if (category != null || action != null) {
            q.append(" and e.tags like :tag escape '!'");
            String c = category == null ? "%" : escape(Recorder.tag(category));
            String a = action == null ? "%" : escape(Recorder.tag(action.toLowerCase(java.util.Locale.ROOT)));
            p.put("tag", "%|" + c + ":" + a + "|%");
        }
        if (after != null) {
            q.append(" and e.id > :after");
            p.put("after", after);
        }
        q.append(" order by e.id");
        TypedQuery<AuditEntry> query = em.createQuery(q.toString(), AuditEntry.class);
        p.forEach(query::setParameter);
        return query.setMaxResults(limit);
    }

    private static void eq(StringBuilder q, Map<String, Object> p, String field, String value) {
        if (value != null) {
            q.append(" and e.").append(field).append(" = :").append(field);
            p.put(field, value);
        }
    }

    /** LIKE wildcards in user input match literally. */
    static String escape(String s) {
        return s.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }
}
