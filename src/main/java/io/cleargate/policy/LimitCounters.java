package io.cleargate.policy;

/**
 * A home for the tenants' request and token allowances (token buckets that refill continuously, a
 * full minute's allowance at most). {@link TenantRateLimiter} keeps them in this replica's memory,
 * {@link RedisLimitCounters} in a store every replica shares.
 */
public interface LimitCounters {

    /** Admission result: {@code retryAfterSeconds} is 0 when admitted; {@code limit} names the short one. */
    record Admission(boolean admitted, long retryAfterSeconds, String limit) {
        static final Admission OK = new Admission(true, 0, null);

        /** A refusal after waiting {@code requestWaitNanos} or {@code tokenWaitNanos}, whichever is longer. */
        static Admission refused(long requestWaitNanos, long tokenWaitNanos) {
            long wait = Math.max(requestWaitNanos, tokenWaitNanos);
            long seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
            return new Admission(false, seconds,
                    requestWaitNanos >= tokenWaitNanos ? "requests_per_minute" : "tokens_per_minute");
        }
    }

    /**
     * Takes one request and {@code tokens} tokens from the tenant's allowance, or nothing when
     * either is short. A null limit means none. A request larger than a whole minute's tokens is
     * charged a full minute, so it waits for a full bucket instead of never passing.
     *
     * @throws LimitStoreUnavailableException when the counters cannot be reached
     */
    Admission acquire(String tenant, Integer requestsPerMinute, Integer tokensPerMinute, long tokens);

    /**
     * Settles a reservation: gives back tokens reserved but not used (a short answer, a refused
     * request), or charges more when {@code tokens} is negative (the estimate was too low).
     *
     * @throws LimitStoreUnavailableException when the counters cannot be reached
     */
    void settle(String tenant, Integer tokensPerMinute, long tokens);

    /**
     * What requests in flight hold against a tenant's monthly budgets (this one included): tokens
     * and cost in nano-units of the policy's currency, of the whole tenant and of one key or user.
     */
    record Held(long tenantTokens, long tenantCostNanos, long subjectTokens, long subjectCostNanos) {}

    /**
     * Holds the most a request in flight may consume against its tenant's budgets, under an id of
     * its own, until {@link #release} or until {@code ttl} has passed (a replica that stopped
     * without releasing must not hold a budget for ever). Returns the totals held, this hold
     * included, read in the same atomic step that added it.
     *
     * @throws LimitStoreUnavailableException when the counters cannot be reached
     */
    Held hold(String tenant, String subject, String holdId, long tokens, long costNanos, java.time.Duration ttl);

    /**
     * Gives a hold back (the request ended; its usage is in the ledger by then).
     *
     * @throws LimitStoreUnavailableException when the counters cannot be reached
     */
    void release(String tenant, String holdId);

    /**
     * Prepares for the first request without waiting (a connection, the script on the server), so
     * the first admission is not the one that pays for it. Failures are left to the first call.
     */
    default void warmUp() {
    }

    /** {@code per-replica} or {@code redis}: where a reservation was counted (metrics, logs). */
    String name();
}
