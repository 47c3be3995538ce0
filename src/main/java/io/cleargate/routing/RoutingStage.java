package io.cleargate.routing;

import io.cleargate.domain.EngineRequest;
import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.tenant.Tenant;
import java.util.List;

/**
 * Residency routing: narrows the backends to those that serve the model in a region the tenant's
 * policy decision allows and under the tenant's jurisdiction (the tenant registry's, not policy
 * data a tenant administrator edits). The regions come only from the decision (bound to the
 * verified identity by policy), never from the request. With no eligible backend the request is refused with 503
 * naming the allowed regions; the dispatcher then fails over only inside the plan. Backends that
 * cannot honour a field the request sets (the embedded engine and tools, say) are left out; when
 * none is left the client gets 400 naming that field.
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

    /** The plan is built from the registry's snapshot in memory. */
    @Override
    public boolean blocks() {
        return false;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        EngineRequest request = exchange.engineRequest();
        String model = request.model();
        // One generation for the whole plan: a reload between here and opening changes nothing.
        EngineRegistry.Snapshot backends = registry.snapshot();
        List<Backend> serving = backends.serving(request);
        if (serving.isEmpty()) {
            if (request.kind() == EngineRequest.Kind.EMBEDDINGS && !backends.servingModel(model).isEmpty()) {
                return StageResult.shortCircuit(GatewayError.invalidRequest("model",
                        "The model '" + model + "' does not serve embeddings; use an embedding model."));
            }
            return StageResult.shortCircuit(GatewayError.modelNotFound(model));
        }
        // Only backends that honour every field the request sets: nothing is silently ignored.
        List<Backend> capable = serving.stream()
                .filter(b -> backends.engine(b.id()).unsupported(request).isEmpty()).toList();
        if (capable.isEmpty()) {
            String param = backends.engine(serving.getFirst().id()).unsupported(request).getFirst();
            return StageResult.shortCircuit(GatewayError.unsupported(param, "'" + param
                    + "' is not supported by the backends that serve model '" + model + "'."));
        }
        PolicyDecision decision = exchange.get(PolicyDecision.KEY).orElse(null);
        // The platform's probes carry published prompts, no tenant's data: only its policy's regions bind them.
        String jurisdiction = exchange.get(Tenant.KEY).filter(t -> !t.isPlatform()).map(Tenant::jurisdiction).orElse(null);
        RoutePlan plan = RoutePlan.of(backends, capable, model, decision == null ? null : decision.regions(), jurisdiction);
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
