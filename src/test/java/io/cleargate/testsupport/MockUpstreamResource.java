package io.cleargate.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Starts one {@link MockUpstream} for a Quarkus test and registers it as backend "mock" serving
 * model "mock". Tests reach it through {@link #mock()}.
 */
public class MockUpstreamResource implements QuarkusTestResourceLifecycleManager {

    private static volatile MockUpstream mock;

    /** The development key the gateway under test creates for tenant "dev" (every role). */
    public static final String DEV_KEY = "cg_0a1b2c3d_" + "5e".repeat(32);

    public static MockUpstream mock() {
        return mock;
    }

    @Override
    public Map<String, String> start() {
        try {
            mock = MockUpstream.start("mock");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.ofEntries(
                Map.entry("cleargate.dev.create-key", "true"),
                Map.entry("cleargate.dev.key", DEV_KEY),
                Map.entry("cleargate.dev.key-file", "target/test-dev-key"),
                Map.entry("cleargate.backends.mock.kind", "openai"),
                Map.entry("cleargate.backends.mock.base-url", mock.baseUrl()),
                Map.entry("cleargate.backends.mock.models", "mock"),
                Map.entry("cleargate.backends.mock.embedding-models", "mock-embed"),
                Map.entry("cleargate.backends.mock.served-names.mock-embed", "mock-embedder-v1"),
                Map.entry("cleargate.backends.mock.region", "local"),
                Map.entry("cleargate.upstream.first-byte-timeout", "1s"),
                Map.entry("cleargate.upstream.between-chunk-timeout", "1s"),
                Map.entry("cleargate.upstream.max-response-bytes", "200000"),
                Map.entry("cleargate.limits.max-body-bytes", "65536"),
                Map.entry("cleargate.routing.failure-threshold", "1000"),
                Map.entry("cleargate.routing.health-interval", "200ms"));
    }

    @Override
    public void stop() {
        if (mock != null) {
            mock.close();
        }
    }
}
