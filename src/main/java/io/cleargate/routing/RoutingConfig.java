package io.cleargate.routing;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Residency routing and backend health, under {@code cleargate.routing.}. */
@ConfigMapping(prefix = "cleargate.routing")
public interface RoutingConfig {

    /** How often every backend's health endpoint is probed. */
    @WithDefault("5s")
    Duration healthInterval();

    /** Consecutive failures (probes or requests) that open a backend's circuit. */
    @WithDefault("3")
    int failureThreshold();

    /** How long an open circuit refuses traffic before one trial request is let through. */
    @WithDefault("10s")
    Duration openDuration();

    /** Backends tried for one request before giving up (never outside the allowed regions). */
    @WithDefault("3")
    int maxAttempts();

    /**
     * Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, metadata host names) are
     * refused as backend addresses unless this is true.
     */
    @WithDefault("false")
    boolean allowLinkLocal();

    /**
     * The fraction of each backend's {@code max-concurrency} one tenant may hold at once (at least
     * one slot). Below 1, one tenant's long-running or slowly read streams cannot take every slot:
     * over its share it gets 429 {@code tenant_concurrency_exceeded} while other tenants are
     * served. 1 turns sharing off (a deployment with a single tenant).
     */
    @WithDefault("0.5")
    double tenantShare();

    /**
     * A properties file of backend declarations ({@code cleargate.backends.<id>.*}) that replaces
     * the backends without a restart when it changes, or on {@code POST /admin/backends/reload}.
     * Point it at the same file the configuration loads at start (k8s: the mounted backends.properties).
     */
    java.util.Optional<String> backendsFile();

    /** How often the backends file is checked for changes. */
    @WithDefault("5s")
    Duration backendsReloadInterval();
}
