package io.cleargate.moderation;

import io.cleargate.identity.Principal;
import io.cleargate.policy.PolicyDecision;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.util.Map;
import java.util.Optional;

/** Fallback beans for the two seams, replaced as soon as identity and policy provide real ones. */
@ApplicationScoped
class ModerationSeams {

    @Produces
    @DefaultBean
    @ApplicationScoped
    ModerationCaller nobody() {
        return headers -> Optional.<Principal>empty();
    }

    @Produces
    @DefaultBean
    @ApplicationScoped
    TenantModerationSettings defaultProfile() {
        return principal -> new PolicyDecision.ModerationSettings(ModerationService.DEFAULT_PROFILE, Map.of());
    }
}
