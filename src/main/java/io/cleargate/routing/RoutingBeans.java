package io.cleargate.routing;

import io.cleargate.engine.EngineRegistry;
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
    Dispatcher dispatcher(BackendPool pool, RoutingConfig config) {
        return new RegionDispatcher(pool, config.maxAttempts());
    }

    @Produces
    @ApplicationScoped
    Stage routingStage(EngineRegistry registry) {
        return new RoutingStage(registry);
    }
}
