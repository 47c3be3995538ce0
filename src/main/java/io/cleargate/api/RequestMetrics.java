package io.cleargate.api;

import io.cleargate.identity.Principal;
import io.cleargate.moderation.ModerationKeys;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.pipeline.Exchange;
import io.cleargate.routing.Route;
import io.cleargate.refusal.RefusalKeys;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Request counters and timings for /q/metrics, read from what the stages recorded on the exchange.
 * The names and labels are the contract the dashboard and alerts in k8s/observability rely on
 * (table in k8s/README.md); labels never carry text from prompts or outputs.
 */
@ApplicationScoped
public class RequestMetrics {

    private final MeterRegistry registry;

    @Inject
    public RequestMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void refusedBeforePipeline(int status) {
        registry.counter("cleargate.requests", "tenant", "unknown", "model", "unknown", "status",
                Integer.toString(status)).increment();
    }

    void completed(Exchange exchange) {
        String tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse("unknown");
        String model = exchange.incoming().model();
        var outcome = exchange.outcome();
        String status = outcome == null ? "unknown" : Integer.toString(outcome.status());
        registry.counter("cleargate.requests", "tenant", tenant, "model", model, "status", status).increment();
        registry.timer("cleargate.request.duration", "tenant", tenant, "model", model)
                .record(java.time.Duration.ofMillis(exchange.elapsedMillis()));
        exchange.get(Route.KEY).ifPresent(route -> registry.counter("cleargate.backend.requests", "backend",
                route.backendId(), "region", route.region(), "outcome", backendOutcome(outcome)).increment());
        exchange.get(Exchange.USAGE).ifPresent(usage -> {
            registry.counter("cleargate.tokens", "tenant", tenant, "model", model, "direction", "prompt")
                    .increment(Math.max(usage.promptTokens(), 0));
            registry.counter("cleargate.tokens", "tenant", tenant, "model", model, "direction", "completion")
                    .increment(usage.completionTokens());
        });
        exchange.get(ModerationKeys.VERDICTS).ifPresent(list -> list.verdicts().forEach(v -> registry.counter(
                "cleargate.moderation.actions", "tenant", tenant, "direction", lower(v.direction().name()),
                "category", v.category(), "action", lower(v.action().name())).increment()));
        exchange.get(RefusalKeys.VERDICT).ifPresent(v -> registry.counter("cleargate.model.answers",
                "backend", exchange.get(Route.KEY).map(Route::backendId).orElse("unknown"),
                "kind", v.kind().id(), "language", v.language()).increment());
        exchange.get(PolicyDecision.KEY).filter(d -> !d.allow()).ifPresent(d -> d.reasons().forEach(r ->
                registry.counter("cleargate.policy.denials", "tenant", tenant, "reason", r.code()).increment()));
        String code = outcome == null || outcome.error() == null ? null : outcome.error().code();
        if (code != null && code.startsWith("policy_") && !code.equals("policy_denied")) {
            registry.counter("cleargate.policy.errors", "kind", code.substring("policy_".length())).increment();
        }
        if ("no_eligible_backend".equals(code)) {
            registry.counter("cleargate.routing.no.eligible.backend", "tenant", tenant, "model", model).increment();
        }
    }

    private static String backendOutcome(Exchange.Outcome outcome) {
        if (outcome == null || outcome.error() == null) {
            return "ok";
        }
        return "upstream_timeout".equals(outcome.error().code()) ? "timeout" : "error";
    }

    private static String lower(String s) {
        return s.toLowerCase(java.util.Locale.ROOT);
    }
}
