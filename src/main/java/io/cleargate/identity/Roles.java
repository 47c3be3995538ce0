package io.cleargate.identity;

import java.util.List;

/** The gateway's roles, as named in Keycloak and on API keys. */
public final class Roles {
    public static final String GATEWAY_USER = "gateway-user";
    public static final String POLICY_ADMIN = "policy-admin";
    public static final String COMPLIANCE_OFFICER = "compliance-officer";
    public static final String GATEWAY_ADMIN = "gateway-admin";
    /** May read every tenant's audit trail, and nothing more: it never destroys or changes anything. */
    public static final String AUDITOR = "auditor";
    /** May edit the global policy modules and every tenant's policy, and add, suspend and resume tenants. */
    public static final String PLATFORM_ADMIN = "platform-admin";
    /** May erase personal data and set or release legal holds in every tenant. */
    public static final String DATA_PROTECTION_OFFICER = "data-protection-officer";

    /**
     * Roles that span every tenant, granted explicitly. Every other role acts only on the holder's
     * own tenant (see {@link Caller#tenantScope(String)}).
     */
    public static final java.util.Set<String> PLATFORM_SCOPED = java.util.Set.of(AUDITOR, PLATFORM_ADMIN,
            DATA_PROTECTION_OFFICER);

    public static final List<String> ALL = List.of(GATEWAY_USER, POLICY_ADMIN, COMPLIANCE_OFFICER, GATEWAY_ADMIN, AUDITOR,
            PLATFORM_ADMIN, DATA_PROTECTION_OFFICER);

    private Roles() {}
}
