package io.cleargate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cleargate.identity.apikey.ApiKeyService;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.HashSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CLEARGATE_DEV_KEY (cleargate.dev.key) chooses the development key instead of a generated one. */
@QuarkusTest
@TestProfile(DevKeyFromEnvironmentIT.Profile.class)
class DevKeyFromEnvironmentIT {

    static final String GIVEN = "cg_0123abcd_" + "5a".repeat(32);

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("cleargate.dev.create-key", "true", "cleargate.dev.key", GIVEN,
                    "cleargate.dev.key-file", "target/dev-key-env-it/dev-key");
        }
    }

    @Inject
    ApiKeyService keys;

    @Test
    void givenDevelopmentKeyIsAcceptedWithEveryRoleForTheDevelopmentTenant() {
        Principal principal = keys.verify(GIVEN);

        assertEquals("dev", principal.tenant());
        assertEquals(new HashSet<>(Roles.ALL), principal.roles());
        assertEquals(Principal.AuthMethod.API_KEY, principal.authMethod());
    }
}
