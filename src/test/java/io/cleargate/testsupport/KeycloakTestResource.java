package io.cleargate.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points the application under test at the JVM's real Keycloak ({@link KeycloakServer}). The other
 * OIDC settings (audience, pinned algorithm, no introspection) are the production ones from
 * application.properties, so the tests exercise exactly what ships. Keycloak itself is stopped at
 * JVM exit, not here, so that several test classes share it.
 */
public class KeycloakTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        KeycloakServer keycloak = KeycloakServer.get();
        return Map.of("quarkus.oidc.auth-server-url", keycloak.issuer());
    }

    @Override
    public void stop() {
        // Shared by every test class of this JVM; a shutdown hook stops it.
    }
}
