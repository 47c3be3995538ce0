package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.pipeline.GatewayException;
import io.cleargate.testsupport.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The shared counters against a real Redis (Debian's redis-server): two "replicas" are two
 * clients on two Vert.x instances, racing on one tenant; the store is stopped and started again
 * to play an outage.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharedRateLimitsIT {

    private RedisServer redis;
    private Vertx vertxA;
    private Vertx vertxB;
    private RedisLimitCounters a;
    private RedisLimitCounters b;
    private int tenantSeq;

    @BeforeAll
    void start() {
        redis = RedisServer.start();
        vertxA = Vertx.vertx();
        vertxB = Vertx.vertx();
        a = new RedisLimitCounters(vertxA, redis.url(), null, "test", Duration.ofMillis(500));
        b = new RedisLimitCounters(vertxB, redis.url(), null, "test", Duration.ofMillis(500));
    }

    @AfterEach
    void storeRunsAgain() {
        redis.startAgain();
    }

    @AfterAll
    void stop() {
        a.close();
        b.close();
        vertxA.close();
        vertxB.close();
        redis.close();
    }

    private String freshTenant() {
        return "tenant-" + (++tenantSeq) + "-" + System.nanoTime() % 100_000;
    }

    @Test
    void twoReplicasRacingOnOneTenantAdmitExactlyTheLimitBetweenThem() throws Exception {
        String tenant = freshTenant();
        int limit = 25;
        int attempts = 80;
        var pool = Executors.newFixedThreadPool(16);
        var go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try {
            for (int i = 0; i < attempts; i++) {
                RedisLimitCounters replica = i % 2 == 0 ? a : b;
                Callable<Boolean> call = () -> {
                    go.await();
                    return replica.acquire(tenant, limit, null, 0).admitted();
                };
                results.add(pool.submit(call));
            }
            go.countDown();
            int admitted = 0;
            for (Future<Boolean> f : results) {
                admitted += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
            }
            // 80 attempts in well under 2.4 s: less than one request refills at 25 a minute.
            assertEquals(limit, admitted, "admitted between the two replicas");
        } finally {
            pool.shutdownNow();
        }
        var refused = b.acquire(tenant, limit, null, 0);
        assertFalse(refused.admitted());
        assertEquals("requests_per_minute", refused.limit());
        assertTrue(refused.retryAfterSeconds() >= 1 && refused.retryAfterSeconds() <= 3, refused.toString());
    }

    @Test
    void tokensReservedOnOneReplicaAreSeenByTheOtherAndSettledBackOnUse() {
        String tenant = freshTenant();
        assertTrue(a.acquire(tenant, null, 1000, 800).admitted());
        var refused = b.acquire(tenant, null, 1000, 800);
        assertFalse(refused.admitted());
        assertEquals("tokens_per_minute", refused.limit());
        a.settle(tenant, 1000, 700); // the answer used 100 of the 800 reserved
        assertTrue(b.acquire(tenant, null, 1000, 800).admitted());
    }

    @Test
    void usageAboveTheEstimateIsChargedToTheSharedAllowance() {
        String tenant = freshTenant();
        assertTrue(a.acquire(tenant, null, 1000, 100).admitted());
        b.settle(tenant, 1000, -800); // 900 used
        var refused = a.acquire(tenant, null, 1000, 200);
        assertFalse(refused.admitted());
        assertEquals("tokens_per_minute", refused.limit());
        assertEquals(6, refused.retryAfterSeconds(), "about 100 missing tokens at 1000 a minute");
    }

    @Test
    void aRequestLargerThanAMinutesTokensWaitsForAFullBucketInsteadOfNeverPassing() {
        String tenant = freshTenant();
        assertTrue(a.acquire(tenant, null, 1000, 5000).admitted());
        var refused = b.acquire(tenant, null, 1000, 5000);
        assertFalse(refused.admitted());
        assertTrue(refused.retryAfterSeconds() >= 59 && refused.retryAfterSeconds() <= 60, refused.toString());
    }

    @Test
    void eachTenantHasItsOwnTwoKeysThatExpireOnceFullAgain() throws Exception {
        String one = freshTenant();
        String two = freshTenant();
        assertTrue(a.acquire(one, 1, 1000, 10).admitted());
        assertFalse(b.acquire(one, 1, 1000, 10).admitted());
        assertTrue(b.acquire(two, 1, 1000, 10).admitted());
        Set<String> keys = new TreeSet<>();
        for (Response k : command(Request.cmd(Command.KEYS).arg("test:rl:*"))) {
            keys.add(k.toString());
        }
        assertTrue(keys.containsAll(Set.of("test:rl:{" + one + "}:requests", "test:rl:{" + one + "}:tokens",
                "test:rl:{" + two + "}:requests", "test:rl:{" + two + "}:tokens")), keys.toString());
        long ttl = command(Request.cmd(Command.PTTL).arg("test:rl:{" + one + "}:requests")).toLong();
        assertTrue(ttl > 50_000 && ttl <= 61_000, "a one-a-minute bucket that was emptied is full in 60 s: " + ttl);
        long tokensTtl = command(Request.cmd(Command.PTTL).arg("test:rl:{" + one + "}:tokens")).toLong();
        assertTrue(tokensTtl > 0 && tokensTtl <= 2_000, "10 of 1000 tokens refill in 0.6 s: " + tokensTtl);
    }

    @Test
    void aStringThatIsNotATenantIdNeverBecomesAKey() {
        for (String bad : List.of("", "x", "Tenant", "a}:b", "a b", "a".repeat(64), "t\n")) {
            assertThrows(IllegalArgumentException.class, () -> a.acquire(bad, 10, null, 0), bad);
        }
    }

    @Test
    void withTheStoreDownTheGatewayRefusesWithAClearErrorAndRecoversWhenItReturns() {
        var meters = new SimpleMeterRegistry();
        var limits = new TenantLimits(a, new TenantRateLimiter(), RateLimitConfig.OnUnavailable.REFUSE, meters);
        String tenant = freshTenant();
        var counted = limits.acquire(tenant, 100, 10_000, 100);
        assertTrue(counted.admission().admitted());
        assertSame(a, counted.counters());

        redis.stop();
        var refused = assertThrows(GatewayException.class, () -> limits.acquire(tenant, 100, 10_000, 100));
        assertEquals(503, refused.error().status());
        assertEquals("rate_limit_store_unavailable", refused.error().code());
        assertEquals("service_unavailable", refused.error().type());
        assertFalse(limits.storeUp());
        limits.settle(counted.counters(), tenant, 10_000, 50); // lost, counted, never thrown
        assertEquals(1.0, meters.get("cleargate.rate.limit.store.errors").tag("operation", "acquire").counter().count());
        assertEquals(1.0, meters.get("cleargate.rate.limit.store.errors").tag("operation", "settle").counter().count());
        assertEquals(0.0, meters.get("cleargate.rate.limit.store.up").gauge().value());
        // A tenant without limits needs no counting, so no store.
        assertTrue(limits.acquire(tenant, null, null, 100).admission().admitted());

        redis.startAgain();
        var again = limits.acquire(tenant, 100, 10_000, 100);
        assertTrue(again.admission().admitted());
        assertSame(a, again.counters());
        assertTrue(limits.storeUp());
        assertEquals(1.0, meters.get("cleargate.rate.limit.store.up").gauge().value());
    }

    @Test
    void withThePerReplicaFallbackConfiguredEachReplicaCountsOnItsOwnWhileTheStoreIsDown() {
        var meters = new SimpleMeterRegistry();
        var local = new TenantRateLimiter();
        var limits = new TenantLimits(a, local, RateLimitConfig.OnUnavailable.PER_REPLICA, meters);
        String tenant = freshTenant();
        redis.stop();
        var first = limits.acquire(tenant, 2, null, 0);
        assertTrue(first.admission().admitted());
        assertSame(local, first.counters(), "counted in this replica's memory");
        assertTrue(limits.acquire(tenant, 2, null, 0).admission().admitted());
        var third = limits.acquire(tenant, 2, null, 0);
        assertFalse(third.admission().admitted(), "the fallback still holds the tenant to its limit on this replica");
        assertEquals(3.0, meters.get("cleargate.rate.limit.store.fallbacks").counter().count());

        redis.startAgain();
        var shared = limits.acquire(tenant, 2, null, 0);
        assertTrue(shared.admission().admitted(), "the restarted store starts with a full allowance");
        assertSame(a, shared.counters());
    }

    @Test
    void anUnreachableStoreIsReportedWithinTheTimeout() {
        var unreachable = new RedisLimitCounters(vertxA, "redis://127.0.0.1:1", null, "test", Duration.ofMillis(200));
        try {
            long start = System.nanoTime();
            assertThrows(LimitStoreUnavailableException.class, () -> unreachable.acquire("dev", 10, null, 0));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2));
        } finally {
            unreachable.close();
        }
    }

    private Response command(Request request) throws Exception {
        Redis client = Redis.createClient(vertxA, redis.url());
        try {
            return client.send(request).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } finally {
            client.close();
        }
    }
}
