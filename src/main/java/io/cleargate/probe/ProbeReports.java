package io.cleargate.probe;

import io.cleargate.audit.AuditEntry;
import io.cleargate.audit.AuditQuery;
import io.cleargate.audit.Canonical;
import io.cleargate.audit.CheckpointSigner;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.tenant.Tenant;
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
 * The model transparency report over time: the signed probe reports kept in the platform's audit
 * chain, each checked against its signature; what changed per topic between consecutive runs of
 * the same backend and model; and the difference between any two reports (two model versions,
 * or two backends).
 */
@ApplicationScoped
public class ProbeReports {

    static final int MAX_RUNS = 500;

    private final EntityManager em;
    private final CheckpointSigner signer;

    /** Readers wait for every acknowledged record to be in the database (see {@link io.cleargate.audit.AuditWriter#awaitStored()}). */
    @Inject
    io.cleargate.audit.AuditWriter writer;

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

    /** The platform's reports, oldest first, filtered by backend and model when given. */
    public Map<String, Object> history(String backend, String model) {
        List<Map<String, Object>> runs = runs(backend, model);
        var result = keyInfo();
        result.put("runs", runs);
        result.put("changes", changes(runs));
        return result;
    }

    /** How a third party checks a report: the public key, its id and what exactly was signed. */
    private Map<String, Object> keyInfo() {
        var result = new LinkedHashMap<String, Object>();
        result.put("public_key", signer.publicKeyHex());
        result.put("key_id", signer.keyId());
        result.put("signed_message", "cleargate-document-v1|" + ProbeRunner.REPORT_TYPE
                + "|<hex SHA-256 of the report as canonical JSON: keys sorted, no whitespace, UTF-8>");
        result.put("verify_with", "audit/verify-report FILE --pubkey <public_key>");
        return result;
    }

    /** The latest report of every backend and model, with the changes each showed against its previous run. */
    public Map<String, Object> latest() {
        List<Map<String, Object>> runs = runs(null, null);
        Map<String, Map<String, Object>> last = new LinkedHashMap<>();
        for (Map<String, Object> run : runs) {
            Map<?, ?> report = (Map<?, ?>) run.get("report");
            last.put(report.get("backend") + "|" + report.get("model"), run);
        }
        var result = keyInfo();
        result.put("runs", List.copyOf(last.values()));
        var lastRuns = last.values().stream().map(r -> ((Map<?, ?>) r.get("report")).get("run_id")).toList();
        result.put("changes", changes(runs).stream().filter(c -> lastRuns.contains(c.get("to_run"))).toList());
        return result;
    }

    /**
     * What changed from one report to another, both named by their audit entry id: per topic, the
     * outcome counts before and after, and per prompt (when both ran the same suite) the outcome
     * that changed. Both reports come with their signatures, so the difference can be recomputed
     * from signed facts.
     */
    public Map<String, Object> diff(long fromEntry, long toEntry) {
        List<Map<String, Object>> runs = runs(null, null);
        Map<String, Object> from = find(runs, fromEntry);
        Map<String, Object> to = find(runs, toEntry);
        Map<?, ?> before = (Map<?, ?>) from.get("report");
        Map<?, ?> after = (Map<?, ?>) to.get("report");
        boolean sameSuite = Objects.equals(before.get("suite_sha256"), after.get("suite_sha256"));
        List<Map<String, Object>> topics = new ArrayList<>();
        Map<String, Map<?, ?>> was = topicsOf(before);
        topicsOf(after).forEach((id, now) -> {
            Map<?, ?> then = was.get(id);
            Object outcomesBefore = then == null ? null : then.get("outcomes");
            List<Map<String, Object>> prompts = sameSuite && then != null ? promptChanges(then, now) : List.of();
            if (!Objects.equals(outcomesBefore, now.get("outcomes")) || !prompts.isEmpty()) {
                var t = new LinkedHashMap<String, Object>();
                t.put("topic", id);
                t.put("sensitive", now.get("sensitive"));
                t.put("before", outcomesBefore);
                t.put("after", now.get("outcomes"));
                t.put("prompts", prompts);
                topics.add(t);
            }
        });
        was.keySet().stream().filter(id -> !topicsOf(after).containsKey(id)).forEach(id -> {
            var t = new LinkedHashMap<String, Object>();
            t.put("topic", id);
            t.put("before", was.get(id).get("outcomes"));
            t.put("after", null);
            topics.add(t);
        });
        var result = keyInfo();
        result.put("from", from);
        result.put("to", to);
        result.put("same_suite", sameSuite);
        result.put("changed_topics", topics);
        return result;
    }

    private static Map<String, Object> find(List<Map<String, Object>> runs, long entry) {
        return runs.stream().filter(r -> Objects.equals(r.get("audit_entry"), entry)).findFirst()
                .orElseThrow(() -> new GatewayException(GatewayError.notFound("No probe report with audit entry " + entry + ".")));
    }

    private static Map<String, Map<?, ?>> topicsOf(Map<?, ?> report) {
        Map<String, Map<?, ?>> m = new LinkedHashMap<>();
        if (report.get("topics") instanceof List<?> topics) {
            for (Object t : topics) {
                if (t instanceof Map<?, ?> topic) {
                    m.put(String.valueOf(topic.get("id")), topic);
                }
            }
        }
        return m;
    }

    /** The prompts (by position and language) whose outcome differs; the suite is the same, so positions match. */
    private static List<Map<String, Object>> promptChanges(Map<?, ?> before, Map<?, ?> after) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (before.get("results") instanceof List<?> a && after.get("results") instanceof List<?> b) {
            for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
                Map<?, ?> x = (Map<?, ?>) a.get(i);
                Map<?, ?> y = (Map<?, ?>) b.get(i);
                if (!Objects.equals(x.get("outcome"), y.get("outcome"))) {
                    var c = new LinkedHashMap<String, Object>();
                    c.put("index", i);
                    c.put("lang", y.get("lang"));
                    c.put("before", x.get("outcome"));
                    c.put("after", y.get("outcome"));
                    out.add(c);
                }
            }
        }
        return out;
    }

    private List<Map<String, Object>> runs(String backend, String model) {
        stored();
        var query = new AuditQuery(Tenant.PLATFORM_ID, null, null, null, null, null, null, "admin", ProbeRunner.ACTION,
                null, "admin", null, null, MAX_RUNS);
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
        return runs;
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
    private void stored() {
        if (writer != null) {
            writer.awaitStored();
        }
    }
}
