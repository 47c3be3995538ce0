package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import io.cleargate.policy.PolicyDecision;
import java.util.List;

/**
 * Residency routing: narrows the backends to those that serve the model in a region the tenant's
 * policy decision allows. The regions come only from the decision (bound to the verified identity
 * by policy), never from the request. With no eligible backend the request is refused with 503
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
        if (registry.servingModel(model).isEmpty()) {
            return StageResult.shortCircuit(GatewayError.modelNotFound(model));
        }
        PolicyDecision decision = exchange.get(PolicyDecision.KEY).orElse(null);
        RoutePlan plan = planFor(registry, model, decision == null ? null : decision.regions());
        String pinned = exchange.get(RoutePlan.PINNED_BACKEND).orElse(null);
        if (pinned != null) {
            plan = new RoutePlan(plan.candidates().stream().filter(b -> b.id().equals(pinned)).toList(),
                    plan.allowedRegions());
        }
        if (plan.candidates().isEmpty()) {
            return StageResult.shortCircuit(noEligibleBackend(plan.allowedRegions(), model));
        }
        exchange.put(RoutePlan.KEY, plan);
        return StageResult.forward();
    }

    /**
     * The plan for a model. {@code allowedRegions} null means no policy stage ran (only possible
     * when governance is switched off for benchmarks): every region is allowed then.
     */
    static RoutePlan planFor(EngineRegistry registry, String model, List<String> allowedRegions) {
        List<Backend> serving = registry.servingModel(model);
        if (allowedRegions == null) {
            return new RoutePlan(serving, serving.stream().map(Backend::region).distinct().toList());
        }
        List<Backend> eligible = serving.stream().filter(b -> allowedRegions.contains(b.region())).toList();
        return new RoutePlan(eligible, allowedRegions);
    }

    static GatewayError noEligibleBackend(List<String> allowedRegions, String model) {
        return GatewayError.unavailable("no_eligible_backend",
                        "No eligible backend is available for model '" + model + "' in the regions your policy allows "
                                + allowedRegions + "; the request was not sent to any other region.")
                .withDetail("allowed_regions", List.copyOf(allowedRegions));
    }
}
