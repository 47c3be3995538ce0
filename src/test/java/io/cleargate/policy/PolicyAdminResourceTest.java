package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cleargate.identity.Principal;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyAdminResourceTest {

    @Test
    void authenticatedCallerWithoutThePolicyAdminRoleIsRefusedWith403() {
        var resource = new PolicyAdminResource();
        resource.access = header -> Optional.of(new Principal("acme-eu", "bob", Set.of("gateway-user"),
                Principal.AuthMethod.JWT));
        // admin stays null: a refused caller must never reach policy administration
        var response = resource.list("Bearer something");
        assertEquals(403, response.getStatus());
        @SuppressWarnings("unchecked")
        var error = (Map<String, Object>) ((Map<String, Object>) response.getEntity()).get("error");
        assertEquals("missing_role", error.get("code"));
    }

    @Test
    void callerWithoutCredentialIsRefusedWith401AndAChallenge() {
        var resource = new PolicyAdminResource();
        resource.access = header -> Optional.empty();
        var response = resource.activate(null, null);
        assertEquals(401, response.getStatus());
        assertEquals("Bearer", response.getHeaderString("WWW-Authenticate"));
    }
}
