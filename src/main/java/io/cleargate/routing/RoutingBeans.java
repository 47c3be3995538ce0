package io.cleargate.routing;

import io.cleargate.engine.EngineRegistry;
import io.cleargate.identity.AdminEvents;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.Stage;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

/** Wires the routing classes (plain Java, testable without CDI) into the application. */
@ApplicationScoped
public class RoutingBeans {

    @Produces
    @ApplicationScoped
    BackendPool backendPool(EngineRegistry registry, RoutingConfig config, MeterRegistry meters) {
        return new BackendPool(registry, config, meters);
    }

    void closePool(@Disposes BackendPool pool) {
        pool.close();
    }

    @Produces
    @ApplicationScoped
    @io.quarkus.runtime.Startup
    BackendReload backendReload(EngineRegistry registry, BackendPool pool, AdminEvents events, RoutingConfig config) {
        var reload = new BackendReload(registry, pool, events, config.backendsFile().map(java.nio.file.Path::of),
                name -> System.getenv(name) != null ? System.getenv(name) : System.getProperty(name));
        reload.watch(config.backendsReloadInterval());
        return reload;
    }

    void closeReload(@Disposes BackendReload reload) {
        reload.close();
    }

    @Produces
    @ApplicationScoped
    Dispatcher dispatcher(BackendPool pool, RoutingConfig config) {
        return new RegionDispatcher(pool, config.maxAttempts());
    }

    @Produces
    @ApplicationScoped
    Stage routingStage(EngineRegistry registry) {
        return new RoutingStage(registry);
    }
}
