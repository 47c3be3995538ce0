package io.cleargate.identity;

import java.util.List;

/** The gateway's roles, as named in Keycloak and on API keys. */
public final class Roles {
    public static final String GATEWAY_USER = "gateway-user";
    public static final String POLICY_ADMIN = "policy-admin";
    public static final String COMPLIANCE_OFFICER = "compliance-officer";
    public static final String GATEWAY_ADMIN = "gateway-admin";
    /** May read every tenant's audit trail. */
    public static final String AUDITOR = "auditor";
    /** Adds, suspends and resumes tenants (platform scope). */
    public static final String PLATFORM_ADMIN = "platform-admin";

    /**
     * Roles that span every tenant. Every other role acts only on the holder's own tenant (see
     * {@link Caller#tenantScope(String)}).
     */
    public static final java.util.Set<String> PLATFORM_SCOPED = java.util.Set.of(AUDITOR, PLATFORM_ADMIN);

    public static final List<String> ALL = List.of(GATEWAY_USER, POLICY_ADMIN, COMPLIANCE_OFFICER, GATEWAY_ADMIN, AUDITOR,
            PLATFORM_ADMIN);

    private Roles() {}
}
