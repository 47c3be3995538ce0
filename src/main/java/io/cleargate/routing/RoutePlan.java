package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import java.util.List;

/**
 * The routing stage's answer: the backends that may serve this request (all serve the model and
 * all sit in a region the tenant's policy allows), for the dispatcher to choose and fail over among.
 * Planning and the "no eligible backend" refusal both live here, so the stage plans and the
 * dispatcher only executes the plan. The plan holds the backend generation it was made from, so a
 * backend reload never changes a request between planning and opening.
 */
public record RoutePlan(String model, List<Backend> candidates, List<String> allowedRegions,
        EngineRegistry.Snapshot registry) {

    public static final Exchange.Key<RoutePlan> KEY = Exchange.Key.of("route-plan", RoutePlan.class);

    public RoutePlan {
        candidates = List.copyOf(candidates);
        allowedRegions = List.copyOf(allowedRegions);
    }

    /**
     * The plan for a model. {@code allowedRegions} null means no policy stage ran (only possible
     * when governance is switched off for benchmarks): every region is allowed then.
     */
    public static RoutePlan of(EngineRegistry.Snapshot registry, String model, List<String> allowedRegions) {
        List<Backend> serving = registry.servingModel(model);
        if (allowedRegions == null) {
            return new RoutePlan(model, serving, serving.stream().map(Backend::region).distinct().toList(), registry);
        }
        List<Backend> eligible = serving.stream().filter(b -> allowedRegions.contains(b.region())).toList();
        return new RoutePlan(model, eligible, allowedRegions, registry);
    }

    /** The 503 for a plan with no backend left: names the regions, promises no other region was tried. */
    public GatewayError noEligibleBackend() {
        return GatewayError.unavailable("no_eligible_backend",
                        "No eligible backend is available for model '" + model + "' in the regions your policy allows "
                                + allowedRegions + "; the request was not sent to any other region.")
                .withDetail("allowed_regions", allowedRegions);
    }
}
