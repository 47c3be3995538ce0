package io.cleargate.refusal;

import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.Route;
import io.cleargate.refusal.detector.RefusalVerdict;
import java.util.List;

/**
 * What the gateway did about the model's own refusal on one request, as the tenant's policy chose
 * ({@code model_refusal.action}): audit and metrics read it beside {@link RefusalKeys#VERDICT}.
 *
 * @param action  observe, flag or retry (the policy's choice, whatever the model did)
 * @param flagged true when the answer the caller got was declined and the policy asked for more than observing
 * @param retry   null when no retry was asked; else {@link #RETRIED} (the answer came from another
 *                backend), {@link #NO_OTHER_BACKEND} or {@link #ALREADY_RELEASED} (flagged instead)
 * @param earlier the answers discarded for a retry, oldest first (at most one)
 */
public record RefusalHandling(String action, boolean flagged, String retry, List<Attempt> earlier) {

    public static final String RETRIED = "retried";
    public static final String NO_OTHER_BACKEND = "no_other_backend";
    public static final String ALREADY_RELEASED = "already_released";

    public RefusalHandling {
        earlier = List.copyOf(earlier);
    }

    /**
     * A discarded answer: where it came from, the verdict on it, and the tokens it cost.
     *
     * @param route where it was served (null if the dispatcher recorded none)
     * @param usage as the upstream reported it (null when it did not)
     */
    public record Attempt(Route route, RefusalVerdict verdict, EngineEvent.Usage usage) {}
}
