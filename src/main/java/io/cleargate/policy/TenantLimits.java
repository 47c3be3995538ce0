package io.cleargate.policy;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Holds tenants to their requests and tokens per minute: in the shared store when one is
 * configured, else in this replica's memory. While the shared store cannot be reached it either
 * refuses (503 {@code rate_limit_store_unavailable}, the default: nothing passes uncounted) or,
 * when configured, counts in this replica's memory until the store answers again. Every reservation
 * is settled where it was counted.
 */
public final class TenantLimits {

    /** The code of the 503 while the shared store is unreachable and the gateway refuses. */
    public static final String STORE_UNAVAILABLE = "rate_limit_store_unavailable";

    private static final Logger LOG = Logger.getLogger(TenantLimits.class);

    /** An admission and the counters that counted it (where its tokens are settled). */
    public record Counted(LimitCounters.Admission admission, LimitCounters counters) {}

    private final LimitCounters shared;
    private final TenantRateLimiter local;
    private final RateLimitConfig.OnUnavailable onUnavailable;
    private final Counter acquireErrors;
    private final Counter settleErrors;
    private final Counter fallbacks;
    private final AtomicBoolean storeUp = new AtomicBoolean(true);

    /**
     * @param shared the shared store, or null to count per replica only
     * @param meters where store errors are counted, or null
     */
    public TenantLimits(LimitCounters shared, TenantRateLimiter local, RateLimitConfig.OnUnavailable onUnavailable,
            MeterRegistry meters) {
        this.shared = shared;
        this.local = local;
        this.onUnavailable = onUnavailable;
        if (meters != null && shared != null) {
            acquireErrors = meters.counter("cleargate.rate.limit.store.errors", "operation", "acquire");
            settleErrors = meters.counter("cleargate.rate.limit.store.errors", "operation", "settle");
            fallbacks = meters.counter("cleargate.rate.limit.store.fallbacks");
            meters.gauge("cleargate.rate.limit.store.up", storeUp, up -> up.get() ? 1 : 0);
        } else {
            acquireErrors = null;
            settleErrors = null;
            fallbacks = null;
        }
    }

    /** Counts in this replica's memory only (today's single-replica behaviour; tests). */
    public static TenantLimits perReplica() {
        return new TenantLimits(null, new TenantRateLimiter(), RateLimitConfig.OnUnavailable.REFUSE, null);
    }

    /**
     * Admits or refuses one request of {@code tokens} reserved tokens.
     *
     * @throws GatewayException 503 {@code rate_limit_store_unavailable} when the shared store cannot
     *                          be reached and the gateway is configured to refuse
     */
    public Counted acquire(String tenant, Integer requestsPerMinute, Integer tokensPerMinute, long tokens) {
        if (shared == null) {
            return new Counted(local.acquire(tenant, requestsPerMinute, tokensPerMinute, tokens), local);
        }
        try {
            var admission = shared.acquire(tenant, requestsPerMinute, tokensPerMinute, tokens);
            storeAnswered();
            return new Counted(admission, shared);
        } catch (LimitStoreUnavailableException e) {
            storeFailed(acquireErrors, e);
            if (onUnavailable == RateLimitConfig.OnUnavailable.PER_REPLICA) {
                increment(fallbacks);
                return new Counted(local.acquire(tenant, requestsPerMinute, tokensPerMinute, tokens), local);
            }
            throw new GatewayException(GatewayError.unavailable(STORE_UNAVAILABLE,
                    "The shared rate-limit store is unreachable, so requests cannot be counted against the tenant's"
                            + " limits; the gateway refuses them until it answers again."));
        }
    }

    /** A budget hold and the counters that keep it (where it is released). */
    public record Holding(LimitCounters.Held held, LimitCounters counters) {}

    /**
     * Holds a request in flight against its tenant's budgets (see {@link LimitCounters#hold}): in the
     * shared store when there is one, so every replica sees every hold; while it is unreachable, as
     * for rate limits, refused (503) or held in this replica's memory.
     *
     * @throws GatewayException 503 {@code rate_limit_store_unavailable} when the shared store cannot
     *                          be reached and the gateway is configured to refuse
     */
    public Holding hold(String tenant, String subject, String holdId, long tokens, long costNanos,
            java.time.Duration ttl) {
        if (shared == null) {
            return new Holding(local.hold(tenant, subject, holdId, tokens, costNanos, ttl), local);
        }
        try {
            var held = shared.hold(tenant, subject, holdId, tokens, costNanos, ttl);
            storeAnswered();
            return new Holding(held, shared);
        } catch (LimitStoreUnavailableException e) {
            storeFailed(acquireErrors, e);
            if (onUnavailable == RateLimitConfig.OnUnavailable.PER_REPLICA) {
                increment(fallbacks);
                return new Holding(local.hold(tenant, subject, holdId, tokens, costNanos, ttl), local);
            }
            throw new GatewayException(GatewayError.unavailable(STORE_UNAVAILABLE,
                    "The shared rate-limit store is unreachable, so requests in flight cannot be held against the"
                            + " tenant's budgets; the gateway refuses them until it answers again."));
        }
    }

    /** Releases a hold where it was kept; a lost release is counted as a store error (the hold expires). */
    public void release(LimitCounters counters, String tenant, String holdId) {
        try {
            counters.release(tenant, holdId);
            if (counters == shared) {
                storeAnswered();
            }
        } catch (LimitStoreUnavailableException e) {
            storeFailed(settleErrors, e);
        }
    }

    /** Settles a reservation where it was counted; a lost settlement is counted as a store error. */
    public void settle(LimitCounters counters, String tenant, Integer tokensPerMinute, long tokens) {
        try {
            counters.settle(tenant, tokensPerMinute, tokens);
            if (counters == shared) {
                storeAnswered();
            }
        } catch (LimitStoreUnavailableException e) {
            storeFailed(settleErrors, e);
        }
    }

    /** Gets the shared store ready for the first request (see {@link LimitCounters#warmUp()}). */
    public void warmUp() {
        if (shared != null) {
            shared.warmUp();
        }
    }

    /** Whether the shared store answered the last call (true when there is none). */
    public boolean storeUp() {
        return storeUp.get();
    }

    private void storeAnswered() {
        if (storeUp.compareAndSet(false, true)) {
            LOG.info("the shared rate-limit store answers again");
        }
    }

    private void storeFailed(Counter errors, LimitStoreUnavailableException e) {
        increment(errors);
        if (storeUp.compareAndSet(true, false)) {
            LOG.warnf("the shared rate-limit store is unreachable (%s); %s", e.getMessage(),
                    onUnavailable == RateLimitConfig.OnUnavailable.PER_REPLICA
                            ? "counting per replica until it answers"
                            : "refusing limited requests until it answers");
        }
    }

    private static void increment(Counter counter) {
        if (counter != null) {
            counter.increment();
        }
    }
}
