package io.cleargate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cleargate.audit.ComplianceResource;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.policy.PolicyAdminResource;
import jakarta.ws.rs.container.ResourceInfo;
import java.lang.reflect.Method;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The admin shell's rules, on the real resources' declarations, with the credential check stubbed. */
class AdminShellTest {

    /** An authenticator that knows one credential per principal and answers 401 to everything else. */
    static final class KnownCallers extends Authenticator {
        private final java.util.Map<String, Principal> known;

        KnownCallers(java.util.Map<String, Principal> known) {
            super(null, null, null, null);
            this.known = known;
        }

        @Override
        public Principal authenticate(String authorizationHeader) {
            Principal p = authorizationHeader == null ? null : known.get(authorizationHeader);
            if (p == null) {
                throw new GatewayException(new GatewayError(401, "authentication_error", "missing_credentials", null,
                        "Missing credentials.", null, java.util.Map.of("WWW-Authenticate", "Bearer")));
            }
            return p;
        }
    }

    static ResourceInfo method(Class<?> type, String name) {
        Method m = java.util.Arrays.stream(type.getMethods()).filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
        return new ResourceInfo() {
            @Override
            public Method getResourceMethod() {
                return m;
            }

            @Override
            public Class<?> getResourceClass() {
                return type;
            }
        };
    }

    static Principal principal(String tenant, String... roles) {
        return new Principal(tenant, "someone", Set.of(roles), Principal.AuthMethod.JWT);
    }

    private final Principal bob = principal("acme-eu", Roles.GATEWAY_USER);
    private final Principal officer = principal("acme-eu", Roles.COMPLIANCE_OFFICER);
    private final Principal auditor = principal("ops", Roles.AUDITOR);
    private final Caller caller = new Caller();
    private final AdminShell shell = new AdminShell(new KnownCallers(java.util.Map.of(
            "Bearer bob", bob, "Bearer officer", officer, "Bearer auditor", auditor)), caller);

    private GatewayError refusal(String authorization, ResourceInfo endpoint) {
        return assertThrows(GatewayException.class, () -> shell.admit(authorization, endpoint)).error();
    }

    @Test
    void authenticatedCallerWithoutThePolicyAdminRoleIsRefusedWith403() {
        var error = refusal("Bearer bob", method(PolicyAdminResource.class, "list"));
        assertEquals(403, error.status());
        assertEquals("missing_role", error.code());
    }

    @Test
    void callerWithoutCredentialIsRefusedWith401AndAChallenge() {
        var error = refusal(null, method(PolicyAdminResource.class, "activate"));
        assertEquals(401, error.status());
        assertEquals("Bearer", error.headers().get("WWW-Authenticate"));
    }

    @Test
    void anOfficerActsOnlyOnItsOwnTenant() {
        shell.admit("Bearer officer", method(ComplianceResource.class, "search"));
        assertEquals("acme-eu", caller.tenantScope(null));
        assertEquals("acme-eu", caller.tenantScope("acme-eu"));
        var error = assertThrows(GatewayException.class, () -> caller.tenantScope("globex-us")).error();
        assertEquals(403, error.status());
        assertEquals("tenant_mismatch", error.code());
    }

    @Test
    void anAuditorSpansTenantsAndNamingNoneMeansAll() {
        shell.admit("Bearer auditor", method(ComplianceResource.class, "search"));
        assertEquals(null, caller.tenantScope(null));
        assertEquals("globex-us", caller.tenantScope("globex-us"));
    }

    @Test
    void aResourceThatDeclaresNoRuleIsClosed() {
        var error = refusal("Bearer auditor", method(Undeclared.class, "open"));
        assertEquals(403, error.status());
        assertEquals("endpoint_not_authorized", error.code());
    }

    public static class Undeclared {
        public String open() {
            return "never";
        }
    }
}
