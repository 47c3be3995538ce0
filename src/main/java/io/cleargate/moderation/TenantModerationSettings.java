package io.cleargate.moderation;

import io.cleargate.identity.Principal;
import io.cleargate.policy.PolicyDecision;

/**
 * Seam to the policy feature: which profile and overrides are in force for a tenant outside a
 * chat request (for the published rules). The lead wires it to the OPA client; the default bean
 * answers the "default" profile, which is also what requests without a decision get.
 */
public interface TenantModerationSettings {

    PolicyDecision.ModerationSettings forTenant(Principal principal);
}
