package io.cleargate.ops;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.routing.BackendPool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while at least one backend can take traffic, as the router sees it (active probes on
 * a timer plus the outcome of real requests); the check itself sends nothing to the backends.
 */
@Readiness
@ApplicationScoped
public class BackendReadiness implements HealthCheck {

    private final EngineRegistry registry;
    private final BackendPool pool;

    @Inject
    public BackendReadiness(EngineRegistry registry, BackendPool pool) {
        this.registry = registry;
        this.pool = pool;
    }

    @Override
    public HealthCheckResponse call() {
        var builder = HealthCheckResponse.named("backends");
        int available = 0;
        for (Backend backend : registry.backends()) {
            boolean up = pool.available(backend.id());
            builder.withData(backend.id(), up ? "up" : "down");
            if (up) {
                available++;
            }
        }
        return builder.status(available > 0).build();
    }
}
