package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.pipeline.Exchange;
import java.util.List;

/**
 * The routing stage's answer: the backends that may serve this request (all serve the model and
 * all sit in a region the tenant's policy allows), for the dispatcher to choose and fail over among.
 */
public record RoutePlan(List<Backend> candidates, List<String> allowedRegions) {

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
}
