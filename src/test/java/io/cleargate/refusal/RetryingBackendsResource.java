package io.cleargate.refusal;

import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.MockUpstreamResource;
import io.cleargate.testsupport.OpaServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Three scripted upstreams serving model "mock" and a real OPA whose development tenant retries
 * the model's refusals ({@code "model_refusal": {"action": "retry"}} in its data.json): "first"
 * (weight 1000, so it is tried first when idle) and "second" in the tenant's region "local", and
 * "abroad" in us-east under US jurisdiction, which the tenant may never use, weighted to be
 * preferred if routing ever looked at it.
 */
public class RetryingBackendsResource implements QuarkusTestResourceLifecycleManager {

    static final Map<String, MockUpstream> MOCKS = new LinkedHashMap<>();
    private OpaServer opa;

    static MockUpstream mock(String id) {
        return MOCKS.get(id);
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>();
        try {
            for (String id : new String[] {"first", "second", "abroad"}) {
                MockUpstream mock = MockUpstream.start(id);
                MOCKS.put(id, mock);
                config.put("cleargate.backends." + id + ".kind", "openai");
                config.put("cleargate.backends." + id + ".base-url", mock.baseUrl());
                config.put("cleargate.backends." + id + ".models", "mock");
                config.put("cleargate.backends." + id + ".region", id.equals("abroad") ? "us-east" : "local");
                config.put("cleargate.backends." + id + ".jurisdiction", id.equals("abroad") ? "US" : "LOCAL");
                config.put("cleargate.backends." + id + ".weight", id.equals("second") ? "1" : "1000");
            }
            String dev = Files.readString(Path.of("policies/cleargate/tenants/dev/data.json"));
            String retrying = dev.replaceFirst("\"model_refusal\": \\{\"action\": \"observe\"\\}",
                    "\"model_refusal\": {\"action\": \"retry\"}");
            if (retrying.equals(dev)) {
                throw new IllegalStateException("the dev tenant's data.json no longer says model_refusal observe");
            }
            opa = OpaServer.start(Map.of("cleargate/tenants/dev/data.json", retrying));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        config.put("cleargate.policy.url", opa.url());
        config.put("cleargate.policy.token", opa.gatewayToken());
        config.put("cleargate.policy.admin.opa-token", opa.adminToken());
        config.put("cleargate.policy.admin.directory", opa.policies().toString());
        config.put("cleargate.moderation.profiles-path",
                opa.policies().resolve("cleargate/moderation/profiles/data.json").toString());
        config.put("cleargate.policy.admin.opa-binary", OpaServer.opaBinary().toString());
        config.put("cleargate.dev.create-key", "true");
        config.put("cleargate.dev.key", MockUpstreamResource.DEV_KEY);
        config.put("cleargate.dev.key-file", "target/test-dev-key");
        config.put("cleargate.upstream.first-byte-timeout", "2s");
        config.put("cleargate.routing.failure-threshold", "1000");
        return config;
    }

    @Override
    public void stop() {
        MOCKS.values().forEach(MockUpstream::close);
        MOCKS.clear();
        if (opa != null) {
            opa.close();
        }
    }
}
