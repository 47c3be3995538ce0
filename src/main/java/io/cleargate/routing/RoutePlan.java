package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import java.util.List;

/**
 * The routing stage's answer: the backends that may serve this request (all serve the model, all
 * sit in a region the tenant's policy allows, and all are under the tenant's jurisdiction), for
 * the dispatcher to choose and fail over among.
 * Planning and the "no eligible backend" refusal both live here, so the stage plans and the
 * dispatcher only executes the plan. The plan holds the backend generation it was made from, so a
 * backend reload never changes a request between planning and opening.
 */
public record RoutePlan(String model, List<Backend> candidates, List<String> allowedRegions,
        EngineRegistry.Snapshot registry) {

    public static final Exchange.Key<RoutePlan> KEY = Exchange.Key.of("route-plan", RoutePlan.class);

    /**
     * Narrows the plan to one backend id. Set only by server-side code that must measure one
     * backend (the model probe suite), never from a request; the backend must still be eligible
     * under the tenant's policy, otherwise the request gets no_eligible_backend.
     */
    public static final Exchange.Key<String> PINNED_BACKEND = Exchange.Key.of("pinned-backend", String.class);

    public RoutePlan {
        candidates = List.copyOf(candidates);
        allowedRegions = List.copyOf(allowedRegions);
    }

    /** A backend declared LOCAL (the default) runs beside the gateway and belongs to no other jurisdiction. */
    static final String LOCAL = "LOCAL";

    /**
     * The plan for a model. {@code allowedRegions} null means no policy stage ran (only possible
     * when governance is switched off for benchmarks): every region is allowed then.
     */
    public static RoutePlan of(EngineRegistry.Snapshot registry, String model, List<String> allowedRegions) {
        return of(registry, model, allowedRegions, null);
    }

    /**
     * The plan for a model and a tenant of {@code jurisdiction} (from the gateway's tenant registry,
     * which tenant policy cannot edit). Residency in depth: a region listed by policy is not enough,
     * the backend must also be under the tenant's jurisdiction (or LOCAL), so a policy that names a
     * region served from elsewhere still never sends data there. Null: no tenant resolved.
     */
    public static RoutePlan of(EngineRegistry.Snapshot registry, String model, List<String> allowedRegions,
            String jurisdiction) {
        return of(registry, registry.servingModel(model), model, allowedRegions, jurisdiction);
    }

    /** As above, among {@code candidates} of {@code registry}: the backends that can serve the request as it asks. */
    public static RoutePlan of(EngineRegistry.Snapshot registry, List<Backend> candidates, String model,
            List<String> allowedRegions, String jurisdiction) {
        List<Backend> serving = candidates.stream()
                .filter(b -> jurisdiction == null || LOCAL.equals(b.jurisdiction()) || jurisdiction.equals(b.jurisdiction()))
                .toList();
        if (allowedRegions == null) {
            return new RoutePlan(model, serving, serving.stream().map(Backend::region).distinct().toList(), registry);
        }
        List<Backend> eligible = serving.stream().filter(b -> allowedRegions.contains(b.region())).toList();
        return new RoutePlan(model, eligible, allowedRegions, registry);
    }

    /** This plan narrowed to one backend (a probe run pins the backend it is measuring). */
    public RoutePlan pinnedTo(String backendId) {
        return new RoutePlan(model, candidates.stream().filter(b -> b.id().equals(backendId)).toList(), allowedRegions, registry);
    }

    /** The 503 for a plan with no backend left: names the regions, promises no other region was tried. */
    public GatewayError noEligibleBackend() {
        return GatewayError.unavailable("no_eligible_backend",
                        "No eligible backend is available for model '" + model + "' in the regions your policy allows "
                                + allowedRegions + "; the request was not sent to any other region.")
                .withDetail("allowed_regions", allowedRegions);
    }
}
