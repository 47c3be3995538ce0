package io.cleargate.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jboss.logging.Logger;

/** Wires the policy feature from {@link PolicyConfig}. */
@ApplicationScoped
public class PolicyBeans {

    private static final Logger LOG = Logger.getLogger(PolicyBeans.class);

    @Produces
    @ApplicationScoped
    PolicyDecisions decisions(PolicyConfig config, ObjectMapper json) {
        String token = secret(config.token(), config.tokenFile(), "cleargate.policy.token");
        var client = new OpaClient(config.url(), config.decisionPath(), token, config.timeout(), json);
        var cache = new DecisionCache(config.cacheTtl().toNanos(), config.cacheSize(), System::nanoTime);
        return new PolicyDecisions(client, cache, json, config.askAhead());
    }

    /**
     * The tenants' request and token counters: per replica, or in the shared store with the
     * configured behaviour while it is unreachable. A replica starts while the store is down (and
     * then refuses limited requests, or counts them per replica, until it answers).
     */
    @Produces
    @ApplicationScoped
    TenantLimits limits(RateLimitConfig config, Vertx vertx, MeterRegistry meters) {
        var local = new TenantRateLimiter();
        if (config.store() == RateLimitConfig.Store.NONE) {
            LOG.info("rate limits are counted per replica (cleargate.rate-limits.store=none)");
            return new TenantLimits(null, local, config.onStoreUnavailable(), meters);
        }
        String url = config.redisUrl().filter(u -> !u.isBlank()).orElseThrow(() -> new IllegalStateException(
                "cleargate.rate-limits.store=redis needs cleargate.rate-limits.redis-url"));
        String password = secret(Optional.empty(), config.redisPasswordFile(), "cleargate.rate-limits.redis-password");
        var shared = new RedisLimitCounters(vertx, url, password, config.keyPrefix(), config.timeout());
        LOG.infof("rate limits are counted in the shared store; while it is unreachable: %s",
                config.onStoreUnavailable() == RateLimitConfig.OnUnavailable.REFUSE ? "refuse" : "count per replica");
        return new TenantLimits(shared, local, config.onStoreUnavailable(), meters);
    }

    /** Connects to the shared store at start, so the first request does not pay for it. */
    void warmUp(@Observes StartupEvent start, TenantLimits limits) {
        limits.warmUp();
    }

    /**
     * A token given inline or in a file; null when neither is set or the file is missing. OPA then
     * answers 401 and every request is refused (fail closed), rather than the gateway not starting.
     */
    static String secret(Optional<String> inline, Optional<String> file, String name) {
        if (inline.isPresent() && !inline.get().isBlank()) {
            return inline.get().strip();
        }
        if (file.isPresent() && !file.get().isBlank()) {
            Path path = Path.of(file.get());
            if (!Files.isRegularFile(path)) {
                LOG.warnf("%s-file %s does not exist: OPA calls will be refused", name, path);
                return null;
            }
            try {
                return Files.readString(path).strip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + name + "-file " + file.get(), e);
            }
        }
        return null;
    }
}
