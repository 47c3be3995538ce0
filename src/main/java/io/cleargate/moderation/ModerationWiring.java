package io.cleargate.moderation;

import io.cleargate.identity.Authenticator;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.policy.PolicyDecisions;
import io.cleargate.policy.PolicyInput;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Connects the moderation endpoints to identity (who is asking) and policy (which profile the
 * tenant's decision selects), the same sources the pipeline uses.
 */
@ApplicationScoped
class ModerationWiring {

    @Produces
    @ApplicationScoped
    ModerationCaller caller(Authenticator authenticator) {
        return headers -> authenticator.tryAuthenticate(headers.get("authorization"));
    }

    @Produces
    @ApplicationScoped
    TenantModerationSettings settings(PolicyDecisions decisions) {
        return principal -> {
            var incoming = new IncomingRequest("/v1/moderation/rules", "internal", Map.of(), null, false, List.of(),
                    Map.of());
            PolicyDecision decision = decisions.decide(PolicyInput.of(principal, incoming, null, Instant.now())).decision();
            if (decision.moderation() == null) {
                // The policy names no profile: the tenant gets the default filter, never none.
                return new PolicyDecision.ModerationSettings(ModerationService.DEFAULT_PROFILE, Map.of());
            }
            return decision.moderation();
        };
    }

}
