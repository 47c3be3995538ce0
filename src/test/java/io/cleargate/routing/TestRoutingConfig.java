package io.cleargate.routing;

import java.time.Duration;
import java.util.Optional;

/**
 * The routing configuration as plain values, for tests that build the router by hand. The defaults
 * are those of {@link RoutingConfig} except what a test states with a {@code with…} method.
 */
record TestRoutingConfig(Duration healthInterval, int failureThreshold, Duration openDuration, int maxAttempts,
        boolean allowLinkLocal, double tenantShare, Optional<String> backendsFile, Duration backendsReloadInterval)
        implements RoutingConfig {

    static TestRoutingConfig defaults() {
        return new TestRoutingConfig(Duration.ofSeconds(5), 3, Duration.ofSeconds(10), 3, false, 0.5,
                Optional.empty(), Duration.ofSeconds(5));
    }

    TestRoutingConfig withHealthInterval(Duration interval) {
        return new TestRoutingConfig(interval, failureThreshold, openDuration, maxAttempts, allowLinkLocal,
                tenantShare, backendsFile, backendsReloadInterval);
    }

    TestRoutingConfig withFailureThreshold(int failures) {
        return new TestRoutingConfig(healthInterval, failures, openDuration, maxAttempts, allowLinkLocal,
                tenantShare, backendsFile, backendsReloadInterval);
    }

    TestRoutingConfig withOpenDuration(Duration open) {
        return new TestRoutingConfig(healthInterval, failureThreshold, open, maxAttempts, allowLinkLocal,
                tenantShare, backendsFile, backendsReloadInterval);
    }
}
