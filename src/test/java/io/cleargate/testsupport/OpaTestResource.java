package io.cleargate.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts a private real OPA for a @QuarkusTest (over its own copy of policies/, so policy
 * administration may change it) and points cleargate.policy.* at it. The policy-admin bootstrap
 * token for the admin API is {@link #ADMIN_API_TOKEN}.
 */
public class OpaTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String ADMIN_API_TOKEN = "test-policy-admin-api-token";

    private static volatile OpaServer current;

    private OpaServer server;

    /** The server of the running test resource. */
    public static OpaServer server() {
        return current;
    }

    @Override
    public Map<String, String> start() {
        server = OpaServer.start(Map.of());
        current = server;
        Map<String, String> config = new HashMap<>();
        config.put("cleargate.policy.url", server.url());
        config.put("cleargate.policy.token", server.gatewayToken());
        config.put("cleargate.policy.admin.opa-token", server.adminToken());
        config.put("cleargate.policy.admin.directory", server.policies().toString());
        config.put("cleargate.policy.admin.opa-binary", OpaServer.opaBinary().toString());
        config.put("cleargate.policy.admin.bootstrap-token", ADMIN_API_TOKEN);
        return config;
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close();
        }
    }
}
