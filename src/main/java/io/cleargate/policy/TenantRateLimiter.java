package io.cleargate.policy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Requests-per-minute and tokens-per-minute per tenant, as token buckets that refill continuously
 * (a full minute's allowance at most). The state is in this process's memory: with N gateway
 * replicas behind a balancer a tenant gets up to N times its limits ({@code cleargate.rate-limits.store=none},
 * or the fallback while the shared store is down). Tokens are reserved on admission (estimated
 * prompt tokens plus max_tokens) and settled on what was used when the request ends. Budget holds
 * of requests in flight are kept here too (per replica, like the buckets).
 */
public final class TenantRateLimiter implements LimitCounters {

    private static final long NANOS_PER_MINUTE = 60_000_000_000L;

    private final LongSupplier clock;
    private final Map<String, Buckets> tenants = new ConcurrentHashMap<>();
    /** Budget holds of requests in flight on this replica, per tenant, by hold id. */
    private final Map<String, Map<String, Hold>> holds = new ConcurrentHashMap<>();

    private record Hold(String subject, long tokens, long costNanos, long expiresAt) {}

    public TenantRateLimiter(LongSupplier clock) {
        this.clock = clock;
    }

    public TenantRateLimiter() {
        this(System::nanoTime);
    }

    @Override
    public Admission acquire(String tenant, Integer requestsPerMinute, Integer tokensPerMinute, long tokens) {
        Buckets b = tenants.computeIfAbsent(tenant, t -> new Buckets(clock.getAsLong()));
        synchronized (b) {
            long now = clock.getAsLong();
            b.requests.refill(requestsPerMinute, now);
            b.tokens.refill(tokensPerMinute, now);
            long requestWait = b.requests.waitNanos(requestsPerMinute, 1);
            long tokenCost = tokensPerMinute == null ? 0 : Math.min(tokens, tokensPerMinute);
            long tokenWait = b.tokens.waitNanos(tokensPerMinute, tokenCost);
            if (requestWait > 0 || tokenWait > 0) {
                return Admission.refused(requestWait, tokenWait);
            }
            b.requests.take(requestsPerMinute, 1);
            b.tokens.take(tokensPerMinute, tokenCost);
            return Admission.OK;
        }
    }

    @Override
    public void settle(String tenant, Integer tokensPerMinute, long tokens) {
        Buckets b = tenants.get(tenant);
        if (b == null || tokens == 0 || tokensPerMinute == null || Double.isNaN(b.tokens.level)) {
            return;
        }
        synchronized (b) {
            b.tokens.level = Math.min(tokensPerMinute, b.tokens.level + tokens);
        }
    }

    @Override
    public Held hold(String tenant, String subject, String holdId, long tokens, long costNanos,
            java.time.Duration ttl) {
        Map<String, Hold> mine = holds.computeIfAbsent(tenant, t -> new java.util.HashMap<>());
        synchronized (mine) {
            long now = clock.getAsLong();
            mine.values().removeIf(h -> h.expiresAt() - now < 0);
            mine.put(holdId, new Hold(subject, tokens, costNanos, now + ttl.toNanos()));
            long tt = 0;
            long tc = 0;
            long st = 0;
            long sc = 0;
            for (Hold h : mine.values()) {
                tt += h.tokens();
                tc += h.costNanos();
                if (h.subject().equals(subject)) {
                    st += h.tokens();
                    sc += h.costNanos();
                }
            }
            return new Held(tt, tc, st, sc);
        }
    }

    @Override
    public void release(String tenant, String holdId) {
        Map<String, Hold> mine = holds.get(tenant);
        if (mine != null) {
            synchronized (mine) {
                mine.remove(holdId);
            }
        }
    }

    @Override
    public String name() {
        return "per-replica";
    }

    private static final class Buckets {
        final Bucket requests;
        final Bucket tokens;

        Buckets(long now) {
            requests = new Bucket(now);
            tokens = new Bucket(now);
        }
    }

    /** Starts full; {@code level} is in units (requests or tokens). */
    private static final class Bucket {
        double level = Double.NaN;
        long last;

        Bucket(long now) {
            last = now;
        }

        void refill(Integer perMinute, long now) {
            if (perMinute == null) {
                return;
            }
            if (Double.isNaN(level)) {
                level = perMinute;
            } else {
                level = Math.min(perMinute, level + (double) (now - last) * perMinute / NANOS_PER_MINUTE);
            }
            last = now;
        }

        long waitNanos(Integer perMinute, long cost) {
            if (perMinute == null || level >= cost) {
                return 0;
            }
            return (long) Math.ceil((cost - level) * NANOS_PER_MINUTE / perMinute);
        }

        void take(Integer perMinute, long cost) {
            if (perMinute != null) {
                level -= cost;
            }
        }
    }
}
