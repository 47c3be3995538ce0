package io.cleargate.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts a private real OPA for a @QuarkusTest (over its own copy of policies/, so policy
 * administration may change it) and points cleargate.policy.* at it.
 */
public class OpaTestResource implements QuarkusTestResourceLifecycleManager {

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
        // the moderation profiles are a document of the same tree, so activations reach them
        config.put("cleargate.moderation.profiles-path",
                server.policies().resolve("cleargate/moderation/profiles/data.json").toString());
        config.put("cleargate.policy.admin.opa-binary", OpaServer.opaBinary().toString());
        return config;
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close();
        }
    }
}
