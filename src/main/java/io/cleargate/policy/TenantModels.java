package io.cleargate.policy;

import io.cleargate.identity.Principal;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.pipeline.IncomingRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Which of the served models a caller's tenant may see and use: one policy decision for
 * {@code /v1/models} (through the decision cache), whose {@code models} member filters the list.
 * A model the tenant may not use is absent, exactly like one that does not exist.
 */
@ApplicationScoped
public class TenantModels {

    static final String ENDPOINT = "/v1/models";

    private final PolicyDecisions decisions;

    @Inject
    public TenantModels(PolicyDecisions decisions) {
        this.decisions = decisions;
    }

    /**
     * The models of {@code served} the caller's tenant may use, in their order.
     *
     * @throws GatewayException 403 when the policy denies listing, 503 when it cannot decide
     */
    public List<String> visible(Principal principal, List<String> served) {
        var incoming = new IncomingRequest(ENDPOINT, "-", Map.of(), null, false, Map.of());
        PolicyDecision decision = decisions.decide(PolicyInput.of(principal, incoming, null, Instant.now())).decision();
        if (!decision.allow()) {
            throw new GatewayException(PolicyStage.denied(decision));
        }
        return served.stream().filter(decision::allowsModel).toList();
    }
}
