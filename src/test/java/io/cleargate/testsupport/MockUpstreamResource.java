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
        return Map.of(
                "cleargate.backends.mock.kind", "openai",
                "cleargate.backends.mock.base-url", mock.baseUrl(),
                "cleargate.backends.mock.models", "mock",
                "cleargate.backends.mock.region", "local",
                "cleargate.upstream.first-byte-timeout", "1s",
                "cleargate.upstream.between-chunk-timeout", "1s",
                "cleargate.upstream.max-response-bytes", "200000",
                "cleargate.limits.max-body-bytes", "65536",
                // Each test sets its own faults: keep the circuit from carrying one test's failures into the next.
                "cleargate.routing.failure-threshold", "1000");
    }

    @Override
    public void stop() {
        if (mock != null) {
            mock.close();
        }
    }
}
