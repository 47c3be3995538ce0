package io.cleargate.ops;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only while at least one configured backend answers its health probe. */
@Readiness
@ApplicationScoped
public class BackendReadiness implements HealthCheck {

    private final EngineRegistry registry;

    @Inject
    public BackendReadiness(EngineRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        var builder = HealthCheckResponse.named("backends");
        int healthy = 0;
        for (Backend backend : registry.backends()) {
            boolean up = registry.engine(backend.id()).healthy();
            builder.withData(backend.id(), up ? "up" : "down");
            if (up) {
                healthy++;
            }
        }
        return builder.status(healthy > 0).build();
    }
}
