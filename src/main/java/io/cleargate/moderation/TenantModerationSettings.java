package io.cleargate.moderation;

import io.cleargate.identity.Principal;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.policy.PolicyDecisions;
import io.cleargate.policy.PolicyInput;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Map;

/**
 * Which profile and overrides are in force for a tenant outside a chat request (for the published
 * rules and explain mode): asked of the tenant's policy decision, the same source the pipeline uses.
 */
@ApplicationScoped
public class TenantModerationSettings {

    private static final String RULES_ENDPOINT = "/v1/moderation/rules";

    private final PolicyDecisions decisions;

    @Inject
    public TenantModerationSettings(PolicyDecisions decisions) {
        this.decisions = decisions;
    }

    public PolicyDecision.ModerationSettings forTenant(Principal principal) {
        var incoming = new IncomingRequest(RULES_ENDPOINT, "internal", Map.of(), null, false, Map.of());
        PolicyDecision decision = decisions.decide(PolicyInput.of(principal, incoming, null, Instant.now())).decision();
        if (decision.moderation() == null) {
            // The policy names no profile: the tenant gets the default filter, never none.
            return new PolicyDecision.ModerationSettings(ModerationService.DEFAULT_PROFILE, Map.of());
        }
        return decision.moderation();
    }
}
