package io.cleargate.routing;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One backend's health as the router sees it: a circuit breaker fed by active probes and by the
 * outcome of real requests, plus the requests in flight (for least-outstanding choice and the
 * concurrency limit), in total and per tenant. Thread-safe.
 */
final class BackendHealth {

    enum State { CLOSED, OPEN, HALF_OPEN }

    /** What {@link #tryAcquire(String)} decided. */
    enum Admission {
        ADMITTED,
        /** The circuit is open, or every slot is taken. */
        UNAVAILABLE,
        /** The tenant already holds its share of this backend's slots. */
        TENANT_SHARE_USED
    }

    private final int failureThreshold;
    private final long openNanos;
    private final int maxConcurrency;
    private final int perTenant;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Slots held per tenant; guarded by this. */
    private final Map<String, Integer> held = new HashMap<>();
    private int consecutiveFailures;
    private State state = State.CLOSED;
    private long openedAt;
    private boolean trialInFlight;

    BackendHealth(int failureThreshold, java.time.Duration openDuration, int maxConcurrency) {
        this(failureThreshold, openDuration, maxConcurrency, 1.0);
    }

    /**
     * @param tenantShare the fraction of {@code maxConcurrency} one tenant may hold at once (at
     *     least one slot), so one tenant's long or slowly read streams cannot take every slot
     */
    BackendHealth(int failureThreshold, java.time.Duration openDuration, int maxConcurrency, double tenantShare) {
        this.failureThreshold = failureThreshold;
        this.openNanos = openDuration.toNanos();
        this.maxConcurrency = maxConcurrency;
        this.perTenant = perTenant(maxConcurrency, tenantShare);
    }

    static int perTenant(int maxConcurrency, double tenantShare) {
        if (!(tenantShare > 0 && tenantShare <= 1)) {
            throw new IllegalArgumentException("tenant-share must be in (0, 1], was " + tenantShare);
        }
        return Math.max(1, (int) Math.floor(maxConcurrency * tenantShare));
    }

    int perTenant() {
        return perTenant;
    }

    int inFlight() {
        return inFlight.get();
    }

    synchronized State state() {
        if (state == State.OPEN && System.nanoTime() - openedAt >= openNanos) {
            state = State.HALF_OPEN;
            trialInFlight = false;
        }
        return state;
    }

    /** True when the circuit lets traffic through (at least a trial request). */
    synchronized boolean available() {
        return switch (state()) {
            case CLOSED -> true;
            case HALF_OPEN -> !trialInFlight;
            case OPEN -> false;
        };
    }

    /**
     * Reserves a slot for one request of {@code tenant} (null: no tenant, counted as one), unless
     * the circuit, the concurrency limit or the tenant's share says no. Release it with
     * {@link #release(String)} and the same tenant.
     */
    synchronized Admission tryAcquire(String tenant) {
        State s = state();
        if (s == State.OPEN || (s == State.HALF_OPEN && trialInFlight)) {
            return Admission.UNAVAILABLE;
        }
        // A share of the whole backend is no share: a full backend is then simply full.
        if (perTenant < maxConcurrency && held.getOrDefault(key(tenant), 0) >= perTenant) {
            return Admission.TENANT_SHARE_USED;
        }
        if (inFlight.get() >= maxConcurrency) {
            return Admission.UNAVAILABLE;
        }
        if (s == State.HALF_OPEN) {
            trialInFlight = true;
        }
        inFlight.incrementAndGet();
        held.merge(key(tenant), 1, Integer::sum);
        return Admission.ADMITTED;
    }

    synchronized void release(String tenant) {
        inFlight.decrementAndGet();
        held.computeIfPresent(key(tenant), (t, n) -> n <= 1 ? null : n - 1);
    }

    /** Slots {@code tenant} holds now. */
    synchronized int held(String tenant) {
        return held.getOrDefault(key(tenant), 0);
    }

    private static String key(String tenant) {
        return tenant == null ? "" : tenant;
    }

    synchronized void success() {
        consecutiveFailures = 0;
        state = State.CLOSED;
        trialInFlight = false;
    }

    synchronized void failure() {
        consecutiveFailures++;
        if (state == State.HALF_OPEN || consecutiveFailures >= failureThreshold) {
            state = State.OPEN;
            openedAt = System.nanoTime();
            trialInFlight = false;
        }
    }
}
