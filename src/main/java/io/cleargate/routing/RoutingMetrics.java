package io.cleargate.routing;

import io.cleargate.engine.EngineRegistry;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.CompletionObserver;
import io.cleargate.pipeline.Exchange;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Per-request routing counters: which backend served (and how it went), and refusals for want of one. */
@ApplicationScoped
public class RoutingMetrics implements CompletionObserver {

    private final MeterRegistry registry;
    private final EngineRegistry engines;

    @Inject
    public RoutingMetrics(MeterRegistry registry, EngineRegistry engines) {
        this.registry = registry;
        this.engines = engines;
    }

    @Override
    public void completed(Exchange exchange) {
        var outcome = exchange.outcome();
        exchange.get(Exchange.ROUTE).ifPresent(route -> registry.counter("cleargate.backend.requests", "backend",
                route.backendId(), "region", route.region(), "outcome", backendOutcome(outcome)).increment());
        if (outcome != null && outcome.error() != null && "no_eligible_backend".equals(outcome.error().code())) {
            String tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse("unknown");
            registry.counter("cleargate.routing.no.eligible.backend", "tenant", tenant, "model",
                    engines.modelLabel(exchange.incoming().model())).increment();
        }
    }

    private static String backendOutcome(Exchange.Outcome outcome) {
        if (outcome == null || outcome.error() == null) {
            return "ok";
        }
        return "upstream_timeout".equals(outcome.error().code()) ? "timeout" : "error";
    }
}
