package io.cleargate.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The model transparency report as the console shows it: per backend and model the latest signed
 * probe report topic by topic, its runs over time, and the changes between two runs. Built from
 * the probe suite's JSON documents, so the page shows exactly what was signed.
 */
public record ModelTransparency(List<Card> cards, List<RunOption> options, Diff diff) {

    /** One backend and model. */
    public record Card(String backend, String region, String model, String servedName, String label, String finishedAt,
            String suiteVersion, boolean signatureValid, String runId, List<TopicRow> topics, List<String> changes,
            List<RunRow> history) {}

    /** One topic of the latest run: how its prompts came out, beside how often the platform's filter acted. */
    public record TopicRow(String id, boolean sensitive, int prompts, int answered, int refused, int deflected,
            int partial, int other, int filterActed) {
        /** Prompts the model declined in any way. */
        public int declined() {
            return refused + deflected + partial + other;
        }
    }

    /** One run of a backend and model, for the "over time" table. */
    public record RunRow(long entry, String finishedAt, String label, String servedName, int sensitive,
            int sensitiveDeclined, int control, int controlDeclined, boolean signatureValid) {}

    /** A run to pick in the comparison form. */
    public record RunOption(long entry, String text) {}

    /** What changed from one run to another. */
    public record Diff(String from, String to, boolean sameSuite, List<TopicChange> topics) {}

    public record TopicChange(String topic, String before, String after, List<String> prompts) {}

    static final List<String> DECLINED_OTHER = List.of("content_filter", "empty_cutoff", "error");

    /** From GET /admin/probes/reports (all runs, oldest first) and optionally a diff document. */
    @SuppressWarnings("unchecked")
    static ModelTransparency of(Map<String, Object> history, Map<String, Object> diff) {
        List<Map<String, Object>> runs = (List<Map<String, Object>>) history.getOrDefault("runs", List.of());
        List<Map<String, Object>> changes = (List<Map<String, Object>>) history.getOrDefault("changes", List.of());
        Map<String, List<Map<String, Object>>> byModel = new LinkedHashMap<>();
        List<RunOption> options = new ArrayList<>();
        for (Map<String, Object> run : runs) {
            Map<String, Object> report = (Map<String, Object>) run.get("report");
            byModel.computeIfAbsent(report.get("backend") + " · " + report.get("model"), k -> new ArrayList<>()).add(run);
            options.add(new RunOption(number(run.get("audit_entry")), report.get("backend") + " · " + report.get("model")
                    + " · " + report.get("finished_at") + (report.get("label") == null ? "" : " · " + report.get("label"))));
        }
        List<Card> cards = new ArrayList<>();
        for (List<Map<String, Object>> modelRuns : byModel.values()) {
            Map<String, Object> last = modelRuns.getLast();
            Map<String, Object> report = (Map<String, Object>) last.get("report");
            List<TopicRow> topics = new ArrayList<>();
            for (Map<String, Object> t : (List<Map<String, Object>>) report.getOrDefault("topics", List.of())) {
                Map<String, Object> o = (Map<String, Object>) t.getOrDefault("outcomes", Map.of());
                int other = DECLINED_OTHER.stream().mapToInt(k -> count(o, k)).sum();
                topics.add(new TopicRow(String.valueOf(t.get("id")), Boolean.TRUE.equals(t.get("sensitive")),
                        count(t, "prompts"), count(o, "answered"), count(o, "refusal"), count(o, "deflection"),
                        count(o, "partial"), other, count(t, "filter_acted")));
            }
            List<String> changed = new ArrayList<>();
            for (Map<String, Object> c : changes) {
                if (Objects.equals(c.get("to_run"), report.get("run_id")) && Objects.equals(c.get("backend"), report.get("backend"))
                        && Objects.equals(c.get("model"), report.get("model"))) {
                    changed.add(c.get("topic") + ": " + outcomes(c.get("before")) + " → " + outcomes(c.get("after")));
                }
            }
            List<RunRow> rows = new ArrayList<>();
            for (Map<String, Object> run : modelRuns.reversed()) {
                Map<String, Object> r = (Map<String, Object>) run.get("report");
                Map<String, Object> totals = (Map<String, Object>) r.getOrDefault("totals", Map.of());
                Map<String, Object> sensitive = (Map<String, Object>) totals.getOrDefault("sensitive", Map.of());
                Map<String, Object> control = (Map<String, Object>) totals.getOrDefault("control", Map.of());
                rows.add(new RunRow(number(run.get("audit_entry")), String.valueOf(r.get("finished_at")),
                        r.get("label") == null ? "" : String.valueOf(r.get("label")), String.valueOf(r.get("served_name")),
                        sum(sensitive), sum(sensitive) - count(sensitive, "answered"), sum(control),
                        sum(control) - count(control, "answered"), Boolean.TRUE.equals(run.get("signature_valid"))));
            }
            cards.add(new Card(String.valueOf(report.get("backend")), String.valueOf(report.get("region")),
                    String.valueOf(report.get("model")), String.valueOf(report.get("served_name")),
                    report.get("label") == null ? "" : String.valueOf(report.get("label")),
                    String.valueOf(report.get("finished_at")), String.valueOf(report.get("suite_version")),
                    Boolean.TRUE.equals(last.get("signature_valid")), String.valueOf(report.get("run_id")), topics, changed, rows));
        }
        return new ModelTransparency(cards, options.reversed(), diff == null ? null : diffOf(diff));
    }

    @SuppressWarnings("unchecked")
    private static Diff diffOf(Map<String, Object> d) {
        List<TopicChange> topics = new ArrayList<>();
        for (Map<String, Object> t : (List<Map<String, Object>>) d.getOrDefault("changed_topics", List.of())) {
            List<String> prompts = new ArrayList<>();
            for (Map<String, Object> p : (List<Map<String, Object>>) t.getOrDefault("prompts", List.of())) {
                prompts.add(p.get("lang") + " prompt " + (number(p.get("index")) + 1) + ": " + p.get("before") + " → "
                        + p.get("after"));
            }
            topics.add(new TopicChange(String.valueOf(t.get("topic")), outcomes(t.get("before")), outcomes(t.get("after")),
                    prompts));
        }
        return new Diff(describe(d.get("from")), describe(d.get("to")), Boolean.TRUE.equals(d.get("same_suite")), topics);
    }

    @SuppressWarnings("unchecked")
    private static String describe(Object run) {
        Map<String, Object> r = (Map<String, Object>) ((Map<String, Object>) run).get("report");
        return r.get("backend") + " · " + r.get("model") + " · " + r.get("finished_at")
                + (r.get("label") == null ? "" : " · " + r.get("label"));
    }

    /** {answered: 2, refusal: 1} as "2 answered, 1 refusal"; "none" for a topic that was not there. */
    static String outcomes(Object counts) {
        if (!(counts instanceof Map<?, ?> m) || m.isEmpty()) {
            return "none";
        }
        List<String> parts = new ArrayList<>();
        m.forEach((k, v) -> parts.add(v + " " + k));
        return String.join(", ", parts);
    }

    private static int count(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? n.intValue() : 0;
    }

    private static int sum(Map<?, ?> m) {
        return m.values().stream().mapToInt(v -> v instanceof Number n ? n.intValue() : 0).sum();
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : -1;
    }
}
