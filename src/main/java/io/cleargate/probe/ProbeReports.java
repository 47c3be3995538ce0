package io.cleargate.probe;

import io.cleargate.audit.AuditEntry;
import io.cleargate.audit.AuditQuery;
import io.cleargate.audit.Canonical;
import io.cleargate.audit.CheckpointSigner;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The model transparency report over time: the signed probe reports kept in the audit trail,
 * each checked against its signature, and what changed per topic between consecutive runs of the
 * same backend and model.
 */
@ApplicationScoped
public class ProbeReports {

    static final int MAX_RUNS = 500;

    private final EntityManager em;
    private final CheckpointSigner signer;

    @Inject
    public ProbeReports(EntityManager em, CheckpointSigner signer) {
        this.em = em;
        this.signer = signer;
    }

    static Map<String, Object> signature(CheckpointSigner.SignedDocument d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", d.type());
        m.put("sha256", d.sha256());
        m.put("key_id", d.keyId());
        m.put("algorithm", d.algorithm());
        m.put("signature", d.signature());
        return m;
    }

    /**
     * Reports of {@code tenant}'s chain (null: every tenant, for auditors), oldest first, filtered
     * by backend and model when given.
     */
    public Map<String, Object> history(String tenant, String backend, String model) {
        var query = new AuditQuery(tenant, null, null, null, null, null, null, "admin", ProbeRunner.ACTION, null, "admin",
                null, null, MAX_RUNS);
        List<AuditEntry> rows = QuarkusTransaction.requiringNew().call(() -> query.build(em).getResultList());
        List<Map<String, Object>> runs = new ArrayList<>();
        for (AuditEntry e : rows) {
            Map<String, Object> details = details(e);
            if (!(details.get("report") instanceof Map<?, ?> report)) {
                continue;
            }
            if ((backend != null && !backend.equals(report.get("backend"))) || (model != null && !model.equals(report.get("model")))) {
                continue;
            }
            var run = new LinkedHashMap<String, Object>();
            run.put("audit_entry", e.id);
            run.put("recorded_at", e.recordedAt.toString());
            run.put("report", report);
            run.put("signature", details.get("signature"));
            run.put("signature_valid", verify(report, details.get("signature")));
            runs.add(run);
        }
        var result = new LinkedHashMap<String, Object>();
        result.put("public_key", signer.publicKeyHex());
        result.put("key_id", signer.keyId());
        result.put("signed_message", "cleargate-document-v1|" + ProbeRunner.REPORT_TYPE
                + "|<hex SHA-256 of the report as canonical JSON: keys sorted, no whitespace, UTF-8>");
        result.put("runs", runs);
        result.put("changes", changes(runs));
        return result;
    }

    private static Map<String, Object> details(AuditEntry e) {
        Object d = Canonical.parse(e.body).get("details");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = d instanceof Map<?, ?> ? (Map<String, Object>) d : Map.of();
        return m;
    }

    private boolean verify(Map<?, ?> report, Object signature) {
        if (!(signature instanceof Map<?, ?> s)) {
            return false;
        }
        var doc = new CheckpointSigner.SignedDocument(String.valueOf(s.get("type")), String.valueOf(s.get("sha256")),
                String.valueOf(s.get("key_id")), String.valueOf(s.get("algorithm")), String.valueOf(s.get("signature")));
        return ProbeRunner.REPORT_TYPE.equals(doc.type()) && signer.verifyDocument(Canonical.json(report), doc);
    }

    /** Per backend and model, the topics whose outcome counts differ from the previous run. */
    static List<Map<String, Object>> changes(List<Map<String, Object>> runs) {
        Map<String, Map<?, ?>> previous = new LinkedHashMap<>();
        List<Map<String, Object>> changes = new ArrayList<>();
        for (Map<String, Object> run : runs) {
            Map<?, ?> report = (Map<?, ?>) run.get("report");
            String key = report.get("backend") + "|" + report.get("model");
            Map<?, ?> before = previous.put(key, report);
            if (before == null) {
                continue;
            }
            Map<String, Object> was = outcomesByTopic(before);
            outcomesByTopic(report).forEach((topic, now) -> {
                if (!Objects.equals(was.get(topic), now)) {
                    var c = new LinkedHashMap<String, Object>();
                    c.put("backend", report.get("backend"));
                    c.put("model", report.get("model"));
                    c.put("topic", topic);
                    c.put("from_run", before.get("run_id"));
                    c.put("to_run", report.get("run_id"));
                    c.put("from_suite_version", before.get("suite_version"));
                    c.put("to_suite_version", report.get("suite_version"));
                    c.put("before", was.get(topic));
                    c.put("after", now);
                    changes.add(c);
                }
            });
        }
        return changes;
    }

    private static Map<String, Object> outcomesByTopic(Map<?, ?> report) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (report.get("topics") instanceof List<?> topics) {
            for (Object t : topics) {
                if (t instanceof Map<?, ?> topic) {
                    m.put(String.valueOf(topic.get("id")), topic.get("outcomes"));
                }
            }
        }
        return m;
    }
}
