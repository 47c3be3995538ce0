package io.cleargate.routing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One backend's health as the router sees it: a circuit breaker fed by active probes and by the
 * outcome of real requests, plus the number of requests in flight (for least-outstanding choice
 * and the concurrency limit). Thread-safe.
 */
final class BackendHealth {

    enum State { CLOSED, OPEN, HALF_OPEN }

    private final int failureThreshold;
    private final long openNanos;
    private final int maxConcurrency;
    private final AtomicInteger inFlight = new AtomicInteger();
    private int consecutiveFailures;
    private State state = State.CLOSED;
    private long openedAt;
    private boolean trialInFlight;

    BackendHealth(int failureThreshold, java.time.Duration openDuration, int maxConcurrency) {
        this.failureThreshold = failureThreshold;
        this.openNanos = openDuration.toNanos();
        this.maxConcurrency = maxConcurrency;
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

    /** Reserves a slot for one request; false when the circuit or the concurrency limit says no. */
    synchronized boolean tryAcquire() {
        State s = state();
        if (s == State.OPEN || (s == State.HALF_OPEN && trialInFlight)) {
            return false;
        }
        if (inFlight.get() >= maxConcurrency) {
            return false;
        }
        if (s == State.HALF_OPEN) {
            trialInFlight = true;
        }
        inFlight.incrementAndGet();
        return true;
    }

    void release() {
        inFlight.decrementAndGet();
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
