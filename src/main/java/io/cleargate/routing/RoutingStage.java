package io.cleargate.routing;

import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.tenant.Tenant;

/**
 * Residency routing: narrows the backends to those that serve the model in a region the tenant's
 * policy decision allows and under the tenant's jurisdiction (the tenant registry's, not policy
 * data a tenant administrator edits). The regions come only from the decision (bound to the
 * verified identity by policy), never from the request. With no eligible backend the request is refused with 503
 * naming the allowed regions; the dispatcher then fails over only inside the plan.
 */
final class RoutingStage implements Stage {

    private final EngineRegistry registry;

    RoutingStage(EngineRegistry registry) {
        this.registry = registry;
    }

    @Override
    public StageName name() {
        return StageName.ROUTING;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        String model = exchange.engineRequest().model();
        EngineRegistry.Snapshot backends = registry.snapshot();
        if (backends.servingModel(model).isEmpty()) {
            return StageResult.shortCircuit(GatewayError.modelNotFound(model));
        }
        PolicyDecision decision = exchange.get(PolicyDecision.KEY).orElse(null);
        String jurisdiction = exchange.get(Tenant.KEY).map(Tenant::jurisdiction).orElse(null);
        RoutePlan plan = RoutePlan.of(backends, model, decision == null ? null : decision.regions(), jurisdiction);
        String pinned = exchange.get(RoutePlan.PINNED_BACKEND).orElse(null);
        if (pinned != null) {
            plan = plan.pinnedTo(pinned);
        }
        if (plan.candidates().isEmpty()) {
            return StageResult.shortCircuit(plan.noEligibleBackend());
        }
        exchange.put(RoutePlan.KEY, plan);
        return StageResult.forward();
    }
}
