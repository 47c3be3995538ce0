package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineException;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.engine.EngineStream;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.EngineErrors;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The default route: the backend the routing stage chose, or else the first configured backend
 * serving the model. Region-aware selection and failover belong to the routing stage and replace
 * this bean.
 */
@ApplicationScoped
@DefaultBean
public class FirstBackendDispatcher implements Dispatcher {

    private final EngineRegistry registry;

    @Inject
    public FirstBackendDispatcher(EngineRegistry registry) {
        this.registry = registry;
    }

    @Override
    public EngineStream open(Exchange exchange) {
        String model = exchange.engineRequest().model();
        Backend backend = exchange.get(Route.KEY)
                .flatMap(route -> registry.backend(route.backendId()))
                .or(() -> registry.servingModel(model).stream().findFirst())
                .orElseThrow(() -> new GatewayException(GatewayError.modelNotFound(model)));
        exchange.put(Route.KEY, new Route(backend.id(), backend.region(), backend.jurisdiction()));
        exchange.responseHeaders().put("x-cleargate-backend", backend.id());
        exchange.responseHeaders().put("x-cleargate-region", backend.region());
        try {
            return registry.engine(backend.id()).open(exchange.engineRequest(), exchange.incoming().stream());
        } catch (EngineException e) {
            throw new GatewayException(EngineErrors.toGatewayError(e));
        }
    }
}
