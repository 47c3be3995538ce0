package io.cleargate.api;

import io.cleargate.identity.Principal;
import io.cleargate.pipeline.Exchange;
import io.cleargate.routing.Route;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Request counters and timings for /q/metrics (cleargate_requests_total, cleargate_tokens_total, ...). */
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
                route.backendId(), "region", route.region(), "status", status).increment());
    }
}
