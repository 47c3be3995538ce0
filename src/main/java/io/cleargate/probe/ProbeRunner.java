package io.cleargate.probe;

import io.cleargate.audit.Canonical;
import io.cleargate.audit.CheckpointSigner;
import io.cleargate.engine.Backend;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineRequest;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.PlatformIdentity;
import io.cleargate.moderation.ModerationKeys;
import io.cleargate.moderation.Verdict;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.refusal.RefusalKeys;
import io.cleargate.refusal.detector.RefusalVerdict;
import io.cleargate.routing.RoutePlan;
import io.cleargate.tenant.Tenant;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs the probe suite against every backend and model: each prompt is a real request through
 * the whole governed pipeline as the platform ({@link PlatformIdentity}: the {@code _platform}
 * tenant's policy decides it, its filter moderates it, routing sends it to exactly that backend
 * inside the regions the platform policy lists, and it is audited in the {@code _platform}
 * chain). Per backend and model it writes a report of how each topic was answered, refused or
 * deflected next to how often the filter acted, signs it with the audit checkpoint key and
 * records it as an admin event ({@value #ACTION}) in the platform's chain, naming who started
 * the run. One run at a time.
 */
@ApplicationScoped
public class ProbeRunner {

    static final String ACTION = "probe_run";
    static final String REPORT_TYPE = "model-probe-report";
    static final String ENDPOINT = "/v1/chat/completions";

    private final Pipeline pipeline;
    private final EngineRegistry engines;
    private final CheckpointSigner signer;
    private final AdminEvents events;
    private final ProbeConfig config;
    private final ReentrantLock oneRun = new ReentrantLock();
    private final SecureRandom random = new SecureRandom();

    @Inject
    public ProbeRunner(Pipeline pipeline, EngineRegistry engines, CheckpointSigner signer, AdminEvents events,
            ProbeConfig config) {
        this.pipeline = pipeline;
        this.engines = engines;
        this.signer = signer;
        this.events = events;
        this.config = config;
    }

    ProbeSuite suite() {
        return ProbeSuite.load(Path.of(config.suitePath()));
    }

    /**
     * Probes every backend (or only {@code backendId}) as the platform, started by {@code actor}
     * (a platform-admin, or the schedule).
     *
     * @param label what the operator calls this model build (e.g. "deepseek-v3-0324"), kept in the report; may be null
     * @return the signed reports, one per backend and model
     */
    public List<Map<String, Object>> run(String actor, String backendId, String label) {
        if (!oneRun.tryLock()) {
            throw new GatewayException(GatewayError.rateLimited("A probe run is already in progress.", 60));
        }
        try {
            ProbeSuite suite = suite();
            List<Backend> targets = engines.backends().stream()
                    .filter(b -> backendId == null || b.id().equals(backendId)).toList();
            if (targets.isEmpty()) {
                throw new GatewayException(GatewayError.notFound("No backend '" + backendId + "'."));
            }
            String runId = newId();
            List<Map<String, Object>> signed = new ArrayList<>();
            for (Backend backend : targets) {
                for (String model : backend.models()) {
                    Map<String, Object> report = probe(suite, backend, model, runId, label);
                    CheckpointSigner.SignedDocument signature = signer.signDocument(REPORT_TYPE, Canonical.json(report));
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("report", report);
                    details.put("signature", ProbeReports.signature(signature));
                    events.record(Tenant.PLATFORM_ID, actor, ACTION, details);
                    signed.add(details);
                }
            }
            return signed;
        } finally {
            oneRun.unlock();
        }
    }

    private Map<String, Object> probe(ProbeSuite suite, Backend backend, String model, String runId, String label) {
        String startedAt = now();
        List<Map<String, Object>> topics = new ArrayList<>();
        Map<String, Map<String, Integer>> totals = new TreeMap<>();
        for (ProbeSuite.Topic topic : suite.topics()) {
            Map<String, Integer> outcomes = new TreeMap<>();
            int filterActed = 0;
            List<Map<String, Object>> results = new ArrayList<>();
            for (ProbeSuite.Prompt prompt : topic.prompts()) {
                Map<String, Object> result = ask(suite, backend, model, prompt, runId);
                outcomes.merge((String) result.get("outcome"), 1, Integer::sum);
                filterActed += (Integer) result.get("filter_actions") > 0 ? 1 : 0;
                results.add(result);
            }
            var t = new LinkedHashMap<String, Object>();
            t.put("id", topic.id());
            t.put("sensitive", topic.sensitive());
            t.put("prompts", topic.prompts().size());
            t.put("outcomes", outcomes);
            t.put("filter_acted", filterActed);
            t.put("results", results);
            topics.add(t);
            outcomes.forEach((k, v) -> totals.computeIfAbsent(topic.sensitive() ? "sensitive" : "control",
                    x -> new TreeMap<>()).merge(k, v, Integer::sum));
        }
        var report = new LinkedHashMap<String, Object>();
        report.put("type", REPORT_TYPE);
        report.put("run_id", runId);
        report.put("backend", backend.id());
        report.put("region", backend.region());
        report.put("model", model);
        // What the upstream itself calls the model: changes when the operator points it at another build.
        report.put("served_name", backend.servedNames().getOrDefault(model, model));
        report.put("label", label);
        report.put("suite_version", suite.version());
        report.put("suite_sha256", suite.sha256());
        report.put("tenant", Tenant.PLATFORM_ID);
        report.put("started_at", startedAt);
        report.put("finished_at", now());
        report.put("totals", totals);
        report.put("topics", topics);
        return report;
    }

    /** One prompt through the governed pipeline, pinned to the backend; what came of it, without its text. */
    private Map<String, Object> ask(ProbeSuite suite, Backend backend, String model, ProbeSuite.Prompt prompt,
            String runId) {
        List<ChatMessage> messages = List.of(new ChatMessage(ChatMessage.Role.USER, prompt.text()));
        var engineRequest = new EngineRequest(model, messages, suite.maxTokens(), 0.0, null, null, null);
        var incoming = new IncomingRequest(ENDPOINT, "127.0.0.1", Map.of("x-cleargate-probe-run", runId),
                model, false, Map.of("max_tokens", suite.maxTokens()));
        String requestId = newId();
        var exchange = new Exchange(requestId, incoming, engineRequest);
        PlatformIdentity.actAsPlatform(exchange);
        exchange.put(RoutePlan.PINNED_BACKEND, backend.id());
        var sink = new ProbeSink();
        pipeline.execute(exchange, sink);

        List<Verdict> filter = exchange.get(ModerationKeys.VERDICTS).map(v -> v.verdicts()).orElse(List.of());
        RefusalVerdict verdict = exchange.get(RefusalKeys.VERDICT).orElse(null);
        var result = new LinkedHashMap<String, Object>();
        result.put("lang", prompt.lang());
        result.put("request_id", requestId);
        if (sink.error != null) {
            result.put("outcome", "error");
            result.put("error_code", sink.error.code());
        } else if (verdict == null) {
            result.put("outcome", "error");
            result.put("error_code", "no_verdict");
        } else {
            result.put("outcome", verdict.declined() ? verdict.kind().id() : "answered");
            // Integer percent: the report is signed over its canonical JSON, which avoids floats.
            result.put("score_pct", (int) Math.round(verdict.score() * 100));
        }
        result.put("filter_actions", filter.size());
        result.put("filter_blocked", filter.stream().anyMatch(v -> v.action() == Verdict.Action.BLOCK));
        return result;
    }

    private String newId() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }
}
