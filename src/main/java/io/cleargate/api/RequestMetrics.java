package io.cleargate.api;

import io.cleargate.engine.EngineRegistry;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.CompletionObserver;
import io.cleargate.pipeline.Exchange;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;

/**
 * Request counters, timings and token counts for /q/metrics. The names and labels are the contract
 * the dashboard and alerts in k8s/observability rely on (table in k8s/README.md); labels never
 * carry text from prompts or outputs. Backend, moderation and policy counters are observed by those
 * features themselves.
 */
@ApplicationScoped
public class RequestMetrics implements CompletionObserver {

    private final MeterRegistry registry;
    private final EngineRegistry engines;

    @Inject
    public RequestMetrics(MeterRegistry registry, EngineRegistry engines) {
        this.registry = registry;
        this.engines = engines;
    }

    void refusedBeforePipeline(int status) {
        registry.counter("cleargate.requests", "tenant", "unknown", "model", "unknown", "status",
                Integer.toString(status)).increment();
    }

    @Override
    public void completed(Exchange exchange) {
        String tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse("unknown");
        String model = engines.modelLabel(exchange.incoming().model());
        var outcome = exchange.outcome();
        String status = outcome == null ? "unknown" : Integer.toString(outcome.status());
        registry.counter("cleargate.requests", "tenant", tenant, "model", model, "status", status).increment();
        registry.timer("cleargate.request.duration", "tenant", tenant, "model", model)
                .record(Duration.ofMillis(exchange.elapsedMillis()));
        exchange.get(Exchange.USAGE).ifPresent(usage -> {
            registry.counter("cleargate.tokens", "tenant", tenant, "model", model, "direction", "prompt")
                    .increment(Math.max(usage.promptTokens(), 0));
            registry.counter("cleargate.tokens", "tenant", tenant, "model", model, "direction", "completion")
                    .increment(usage.completionTokens());
        });
    }
}
