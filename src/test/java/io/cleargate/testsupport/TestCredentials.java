package io.cleargate.testsupport;

import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.identity.apikey.ApiKeyService;
import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantRegistry;
import io.quarkus.arc.Arc;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real credentials for tests that run inside the application (@QuarkusTest): an API key created
 * through {@link ApiKeyService} for a tenant created in the tenant table, so that every request a
 * test sends is authenticated by the gateway's own path (key hash, revocation, expiry, active
 * tenant) and no test bean stands in for identity.
 */
public final class TestCredentials {

    /** Keys per running application (a new test profile starts a new one with its own database). */
    private static final Map<String, String> KEYS = new ConcurrentHashMap<>();

    private TestCredentials() {}

    /** "Bearer <api key>" of a principal of {@code tenant} holding {@code role}; the key is named {@code name}. */
    public static String bearer(String role, String tenant, String name) {
        String app = Integer.toHexString(System.identityHashCode(Arc.container()));
        return KEYS.computeIfAbsent(app + "|" + role + "|" + tenant + "|" + name,
                k -> "Bearer " + create(tenant, name, Set.of(role)));
    }

    /** The principal the gateway establishes for a bearer credential made by {@link #bearer}. */
    public static Principal principal(String bearer) {
        ApiKeyService keys = Arc.container().instance(ApiKeyService.class).get();
        return keys.verify(bearer.substring("Bearer ".length()));
    }

    private static String create(String tenant, String name, Set<String> roles) {
        TenantRegistry tenants = Arc.container().instance(TenantRegistry.class).get();
        tenants.createIfAbsent(new Tenant(tenant, tenant, "EU", true));
        tenants.setActive(tenant, true);
        // The test acts as the tenant's first administrator, who may grant every role.
        var setup = new Principal(tenant, "test-setup", Set.copyOf(Roles.ALL), Principal.AuthMethod.API_KEY);
        ApiKeyService keys = Arc.container().instance(ApiKeyService.class).get();
        return keys.create(setup, name, roles, null).secretKey();
    }
}
