package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TenantRateLimiterTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final TenantRateLimiter limiter = new TenantRateLimiter(now::get);

    private void advanceSeconds(double s) {
        now.addAndGet((long) (s * 1e9));
    }

    @Test
    void requestsBeyondThePerMinuteAllowanceWaitForTheBucketToRefill() {
        assertTrue(limiter.acquire("t", 2, null, 0).admitted());
        assertTrue(limiter.acquire("t", 2, null, 0).admitted());
        var refused = limiter.acquire("t", 2, null, 0);
        assertFalse(refused.admitted());
        assertEquals("requests_per_minute", refused.limit());
        assertEquals(30, refused.retryAfterSeconds(), "one request refills in 60/2 seconds");
        advanceSeconds(30);
        assertTrue(limiter.acquire("t", 2, null, 0).admitted());
    }

    @Test
    void tenantsHaveSeparateAllowances() {
        assertTrue(limiter.acquire("a", 1, null, 0).admitted());
        assertFalse(limiter.acquire("a", 1, null, 0).admitted());
        assertTrue(limiter.acquire("b", 1, null, 0).admitted());
    }

    @Test
    void unusedReservedTokensAreGivenBack() {
        assertTrue(limiter.acquire("t", null, 1000, 800).admitted());
        assertFalse(limiter.acquire("t", null, 1000, 800).admitted());
        limiter.settle("t", 1000, 700);
        assertTrue(limiter.acquire("t", null, 1000, 800).admitted());
    }

    @Test
    void usageAboveTheEstimateIsCharged() {
        assertTrue(limiter.acquire("t", null, 1000, 100).admitted());
        limiter.settle("t", 1000, -800);
        var refused = limiter.acquire("t", null, 1000, 200);
        assertFalse(refused.admitted());
        assertEquals("tokens_per_minute", refused.limit());
        assertEquals(6, refused.retryAfterSeconds(), "100 missing tokens at 1000 a minute");
    }

    @Test
    void aRequestLargerThanAMinutesTokensWaitsForAFullBucketInsteadOfNeverPassing() {
        assertTrue(limiter.acquire("t", null, 1000, 5000).admitted());
        var refused = limiter.acquire("t", null, 1000, 5000);
        assertFalse(refused.admitted());
        assertEquals(60, refused.retryAfterSeconds());
    }

    @Test
    void noLimitsMeansNoWaiting() {
        for (int i = 0; i < 1000; i++) {
            assertTrue(limiter.acquire("t", null, null, 1_000_000).admitted());
        }
    }

    @Test
    void budgetHoldsAddUpPerTenantAndPerKeyUntilReleasedOrLapsed() {
        var ttl = java.time.Duration.ofMinutes(15);
        assertEquals(new LimitCounters.Held(100, 5, 100, 5), limiter.hold("t", "key-a", "r1", 100, 5, ttl));
        assertEquals(new LimitCounters.Held(300, 15, 200, 10), limiter.hold("t", "key-b", "r2", 200, 10, ttl),
                "the tenant's totals hold both; key-b's only its own");
        assertEquals(new LimitCounters.Held(50, 1, 50, 1), limiter.hold("other", "key-a", "r3", 50, 1, ttl),
                "another tenant's holds are apart");
        limiter.release("t", "r1");
        assertEquals(new LimitCounters.Held(210, 11, 10, 1), limiter.hold("t", "key-a", "r4", 10, 1, ttl));
        advanceSeconds(15 * 60 + 1);
        assertEquals(new LimitCounters.Held(1, 0, 1, 0), limiter.hold("t", "key-a", "r5", 1, 0, ttl),
                "holds nobody released lapse");
    }
}
