package io.cleargate.policy;

import static io.cleargate.policy.PipelineHarness.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.identity.Principal;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.RedisServer;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Requests in flight are held against the tenant's budgets, with the real OPA and the repository's
 * policies (tenant acme-eu: a per-key budget of 50,000,000 tokens). The ledger is a stand-in whose
 * key usage leaves room for exactly three requests; the engine holds admitted requests in flight
 * until the test opens its gate. Per replica the holds are in memory; with the shared store
 * (Debian's redis-server) two replicas see each other's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BudgetHoldsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL = "deepseek-moe-16b-chat";
    private static final long KEY_BUDGET = 50_000_000;
    private static final int MAX_TOKENS = 300;
    private static final int RACERS = 10;

    private final AtomicLong keyUsed = new AtomicLong();
    private final Spending ledger = (tenant, subject, month) -> new Spending.MonthToDate(month,
            new Spending.Spent(0, 0), new Spending.Spent(keyUsed.get(), 0));
    private RedisServer redis;
    private Vertx vertxA;
    private Vertx vertxB;
    private RedisLimitCounters storeA;
    private RedisLimitCounters storeB;
    private ExecutorService pool;
    /** What one request holds: its estimated prompt plus max_tokens. */
    private long perRequest;

    @BeforeAll
    void start() {
        redis = RedisServer.start();
        vertxA = Vertx.vertx();
        vertxB = Vertx.vertx();
        storeA = new RedisLimitCounters(vertxA, redis.url(), null, "holds", Duration.ofSeconds(2));
        storeB = new RedisLimitCounters(vertxB, redis.url(), null, "holds", Duration.ofSeconds(2));
        pool = Executors.newFixedThreadPool(RACERS);
        keyUsed.set(0);
        var probe = harness(TenantLimits.perReplica()).chat(caller(), MODEL, MAX_TOKENS, MAX_TOKENS);
        assertEquals(200, probe.status());
        long prompt = ((Number) ((Map<?, ?>) probe.decision().input().get("request")).get("estimated_prompt_tokens"))
                .longValue();
        perRequest = prompt + MAX_TOKENS;
    }

    @AfterAll
    void stop() {
        pool.shutdownNow();
        storeA.close();
        storeB.close();
        vertxA.close();
        vertxB.close();
        redis.close();
    }

    private PipelineHarness harness(TenantLimits limits) {
        var opa = OpaServer.shared();
        var client = new OpaClient(opa.url(), "cleargate/decision", opa.gatewayToken(), Duration.ofSeconds(2), JSON);
        var decisions = new PolicyDecisions(client, new DecisionCache(0, 1000, System::nanoTime), JSON);
        return new PipelineHarness(new PolicyStage(decisions, limits, ledger));
    }

    private static Principal caller() {
        return user("acme-eu", "gateway-user");
    }

    /** Leaves room in the key's budget for {@code requests} whole requests and half of one more. */
    private void roomFor(int requests) {
        keyUsed.set(KEY_BUDGET - requests * perRequest - perRequest / 2);
    }

    /**
     * Sends {@link #RACERS} requests at once, alternating over the harnesses (replicas); admitted ones
     * wait at the gate until every refusal has come back. Returns the outcomes, gate open.
     */
    private List<PipelineHarness.Outcome> race(PipelineHarness... replicas) throws Exception {
        var gate = new CountDownLatch(1);
        var start = new CountDownLatch(1);
        for (var r : replicas) {
            r.dispatcher.gate = gate;
        }
        List<Future<PipelineHarness.Outcome>> sent = new ArrayList<>();
        try {
            for (int i = 0; i < RACERS; i++) {
                var replica = replicas[i % replicas.length];
                sent.add(pool.submit(() -> {
                    start.await();
                    return replica.chat(caller(), MODEL, MAX_TOKENS, MAX_TOKENS);
                }));
            }
            start.countDown();
            // Refusals come back at once; admitted requests are in flight at the gate.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int inFlight;
            do {
                Thread.sleep(50);
                int opened = 0;
                for (var r : replicas) {
                    opened += r.dispatcher.opened.size();
                }
                inFlight = opened;
            } while (inFlight + sent.stream().filter(Future::isDone).count() < RACERS && System.nanoTime() < deadline);
            Thread.sleep(200); // a straggler admitted late would show up here
        } finally {
            gate.countDown();
            for (var r : replicas) {
                r.dispatcher.gate = null;
            }
        }
        List<PipelineHarness.Outcome> outcomes = new ArrayList<>();
        for (var f : sent) {
            outcomes.add(f.get(60, TimeUnit.SECONDS));
        }
        return outcomes;
    }

    private static long admitted(List<PipelineHarness.Outcome> outcomes) {
        return outcomes.stream().filter(o -> o.status() == 200).count();
    }

    private static void assertRefusedForRequestsInFlight(List<PipelineHarness.Outcome> outcomes) {
        for (var o : outcomes) {
            if (o.status() != 200) {
                assertEquals(429, o.status(), String.valueOf(o.sink().error));
                assertEquals("budget_exceeded", o.sink().error.code());
                assertTrue(o.sink().error.message().contains("'per-key-tokens'")
                        && o.sink().error.message().contains("held by other requests in flight"), o.sink().error.message());
                assertEquals(String.valueOf(BudgetHolds.IN_FLIGHT_RETRY_SECONDS), o.sink().error.headers().get("Retry-After"),
                        "it fits once the others end");
            }
        }
    }

    @Test
    void racingRequestsThatEachFitTheRestOfABudgetAreAdmittedOnlyAsFarAsTheyFitTogether() throws Exception {
        roomFor(3);
        var replica = harness(TenantLimits.perReplica());
        var outcomes = race(replica);
        assertEquals(3, admitted(outcomes), "each of the " + RACERS + " fits alone; three fit together");
        assertEquals(3, replica.dispatcher.opened.size(), "a refused request never reaches the engine");
        assertRefusedForRequestsInFlight(outcomes);
        assertEquals(200, replica.chat(caller(), MODEL, MAX_TOKENS, MAX_TOKENS).status(),
                "once they ended their holds are gone (the stand-in ledger did not grow)");
    }

    @Test
    void aRequestWhoseUpstreamFailedGivesItsHoldBack() {
        roomFor(1);
        var replica = harness(TenantLimits.perReplica());
        replica.dispatcher.failing = true;
        var failed = replica.chat(caller(), MODEL, MAX_TOKENS, MAX_TOKENS);
        assertEquals(502, failed.status(), String.valueOf(failed.sink().error));
        replica.dispatcher.failing = false;
        assertEquals(200, replica.chat(caller(), MODEL, MAX_TOKENS, MAX_TOKENS).status(),
                "room for one request: the failed one no longer holds it");
    }

    @Test
    void aRequestThatCannotFitEvenAloneIsToldToWaitForNextMonth() {
        roomFor(1);
        var out = harness(TenantLimits.perReplica()).chat(caller(), MODEL, 4 * MAX_TOKENS, 4 * MAX_TOKENS);
        assertEquals(429, out.status());
        assertEquals("budget_exceeded", out.sink().error.code());
        assertTrue(out.sink().error.message().contains("up to " + (perRequest + 3 * MAX_TOKENS) + " for this one"),
                out.sink().error.message());
        long retryAfter = Long.parseLong(out.sink().error.headers().get("Retry-After"));
        var now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
        long toNextMonth = Duration.between(now, now.withDayOfMonth(1).toLocalDate().plusMonths(1)
                .atStartOfDay(java.time.ZoneOffset.UTC)).toSeconds();
        assertTrue(Math.abs(retryAfter - toNextMonth) < 60, retryAfter + " vs " + toNextMonth);
    }

    @Test
    void withTheSharedStoreTwoReplicasHoldAgainstOneBudgetBetweenThem() throws Exception {
        roomFor(3);
        var a = harness(new TenantLimits(storeA, new TenantRateLimiter(), RateLimitConfig.OnUnavailable.REFUSE, null));
        var b = harness(new TenantLimits(storeB, new TenantRateLimiter(), RateLimitConfig.OnUnavailable.REFUSE, null));
        var outcomes = race(a, b);
        assertEquals(3, admitted(outcomes), "three between the two replicas");
        assertRefusedForRequestsInFlight(outcomes);
        assertEquals(200, b.chat(caller(), MODEL, MAX_TOKENS, MAX_TOKENS).status(), "released in the store");
    }

    @Test
    void withoutTheSharedStoreEachReplicaHoldsOnlyItsOwnRequests() throws Exception {
        // The documented limit of store=none: each replica admits what fits beside its own holds.
        roomFor(3);
        var outcomes = race(harness(TenantLimits.perReplica()), harness(TenantLimits.perReplica()));
        assertEquals(6, admitted(outcomes), "three per replica");
    }
}
