package io.cleargate.policy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * Where the tenants' requests-per-minute and tokens-per-minute are counted
 * ({@code cleargate.rate-limits.*}). The limits themselves come from the tenant's policy.
 */
@ConfigMapping(prefix = "cleargate.rate-limits")
public interface RateLimitConfig {

    /** The counters' home. */
    enum Store {
        /** In this replica's memory: with N replicas a tenant gets up to N times its limits. */
        NONE,
        /** A Redis or Valkey server shared by every replica: one tenant, one allowance. */
        REDIS
    }

    /** What a replica does while the shared store cannot be reached. */
    enum OnUnavailable {
        /** Refuse every limited request with 503 {@code rate_limit_store_unavailable} (fail closed). */
        REFUSE,
        /** Count in this replica's memory until the store answers again (up to N times the limits). */
        PER_REPLICA
    }

    /** {@code none} (per replica, the default) or {@code redis}. */
    @WithDefault("none")
    Store store();

    /** The shared store, {@code redis://host:port[/db]}; required when {@code store=redis}. */
    Optional<String> redisUrl();

    /** File holding the store's password (a Kubernetes Secret mounted as a file); none when unset. */
    Optional<String> redisPasswordFile();

    /** {@code refuse} (the default) or {@code per-replica}. */
    @WithDefault("refuse")
    OnUnavailable onStoreUnavailable();

    /** Strict bound on one store call, connect included; past it the store counts as unavailable. */
    @WithDefault("250ms")
    Duration timeout();

    /**
     * Prefix of every key, so deployments (say the eu and us gateways) can share one server
     * without sharing allowances. Keys are {@code <prefix>:rl:{<tenant>}:requests|tokens}.
     */
    @WithDefault("cleargate")
    String keyPrefix();
}
