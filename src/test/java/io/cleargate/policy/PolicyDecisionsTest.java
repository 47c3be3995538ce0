package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PolicyDecisionsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Object> INPUT = Map.of("tenant", "dev", "request", Map.of("model", "m"));
    private static final PolicyDecision ALLOW = new PolicyDecision(true, List.of(), List.of(), null, null, null, "id",
            "r", Map.of());

    private final AtomicInteger asked = new AtomicInteger();
    private final AtomicBoolean opaDown = new AtomicBoolean();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean slow;

    private PolicyDecision opa(Map<String, Object> input) {
        asked.incrementAndGet();
        if (slow) {
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (opaDown.get()) {
            throw new GatewayException(GatewayError.unavailable("policy_unavailable", "OPA is down"));
        }
        return ALLOW;
    }

    private PolicyDecisions decisions() {
        return new PolicyDecisions(this::opa, new DecisionCache(60_000_000_000L, 100, System::nanoTime), JSON);
    }

    @Test
    void requestsMissingTheCacheTogetherAskOpaOnceAndShareItsAnswer() throws Exception {
        var decisions = decisions();
        slow = true;
        List<Thread> threads = new ArrayList<>();
        List<PolicyDecisions.Answer> answers = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 16; i++) {
            threads.add(Thread.ofVirtual().start(() -> answers.add(decisions.decide(INPUT))));
        }
        while (asked.get() == 0) {
            Thread.sleep(1);
        }
        Thread.sleep(50); // the others are waiting on the first one's question by now
        release.countDown();
        for (Thread t : threads) {
            t.join(5000);
        }
        assertEquals(16, answers.size());
        assertEquals(1, asked.get());
        assertEquals(1, answers.stream().filter(a -> !a.cached()).count());
        answers.forEach(a -> assertSame(ALLOW, a.decision()));
    }

    @Test
    void theCacheKeyIsTheInputAsJsonWithSortedKeysWhateverTheMapsOrder() throws Exception {
        var decisions = decisions();
        var subject = new java.util.LinkedHashMap<String, Object>();
        subject.put("roles", List.of("admin", "user"));
        subject.put("id", "key:\"quoted\" \\ back\nline\u0001 é 😀");
        var request = new java.util.LinkedHashMap<String, Object>();
        request.put("stream", false);
        request.put("max_tokens", 256L);
        request.put("estimated_prompt_tokens", 17);
        request.put("model", null);
        request.put("temperature", 0.5);
        var input = new java.util.LinkedHashMap<String, Object>();
        input.put("tenant", "dev");
        input.put("subject", subject);
        input.put("request", request);
        input.put("context", Map.of("time", "2026-12-02T04:50:00Z"));
        input.put("usage", Map.of("tenant", Map.of("tokens", 3L, "cost", 0.25), "key", Map.of("tokens", 1L, "cost", 0)));
        String key = decisions.key(input);

        // The same JSON as Jackson's with sorted keys.
        var sorted = JSON.copy().configure(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
        assertEquals(sorted.writeValueAsString(input), key);
        assertEquals(JSON.readTree(sorted.writeValueAsString(input)), JSON.readTree(key));

        var reordered = new java.util.LinkedHashMap<String, Object>();
        List.of("usage", "context", "request", "subject", "tenant").forEach(name -> reordered.put(name, input.get(name)));
        assertEquals(key, decisions.key(reordered));
        reordered.put("tenant", "other");
        assertFalse(key.equals(decisions.key(reordered)));
        assertFalse(decisions.key(Map.of("a", "1")).equals(decisions.key(Map.of("a", 1))));
    }

    @Test
    void requestsWaitingOnAFailedQuestionAreRefusedToo() throws Exception {
        var decisions = decisions();
        slow = true;
        opaDown.set(true);
        AtomicInteger refused = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    decisions.decide(INPUT);
                } catch (GatewayException e) {
                    assertEquals(503, e.error().status());
                    refused.incrementAndGet();
                }
            }));
        }
        while (asked.get() == 0) {
            Thread.sleep(1);
        }
        Thread.sleep(50);
        release.countDown();
        for (Thread t : threads) {
            t.join(5000);
        }
        assertEquals(8, refused.get());
    }

    @Test
    void noCachedDecisionIsServedOnceOpaHasFailed() {
        var decisions = decisions();
        assertFalse(decisions.decide(INPUT).cached());
        assertTrue(decisions.decide(INPUT).cached());
        opaDown.set(true);
        var other = Map.<String, Object>of("tenant", "dev", "request", Map.of("model", "other"));
        assertThrows(GatewayException.class, () -> decisions.decide(other)); // OPA is seen down
        var e = assertThrows(GatewayException.class, () -> decisions.decide(INPUT));
        assertEquals(503, e.error().status());
        opaDown.set(false);
        assertFalse(decisions.decide(INPUT).cached());
    }

    @Test
    void aRequestAfterAPolicyChangeNeverWaitsForAQuestionAskedBeforeIt() throws Exception {
        var decisions = decisions();
        slow = true;
        AtomicReference<PolicyDecisions.Answer> before = new AtomicReference<>();
        Thread first = Thread.ofVirtual().start(() -> before.set(decisions.decide(INPUT)));
        while (asked.get() == 0) {
            Thread.sleep(1);
        }
        decisions.policyChanged();
        AtomicReference<PolicyDecisions.Answer> after = new AtomicReference<>();
        Thread second = Thread.ofVirtual().start(() -> after.set(decisions.decide(INPUT)));
        while (asked.get() < 2) {
            Thread.sleep(1); // the second request asks OPA itself
        }
        release.countDown();
        first.join(5000);
        second.join(5000);
        assertFalse(after.get().cached());
        assertEquals(2, asked.get());
    }

    /** The bench's kind of input: the time in whole seconds, as PolicyInput writes it. */
    private static Map<String, Object> inputAt(long second) {
        return Map.of("tenant", "dev", "request", Map.of("model", "m"),
                "context", Map.of("time", java.time.Instant.ofEpochSecond(second).toString()));
    }

    private final List<Map<String, Object>> questions = java.util.Collections.synchronizedList(new ArrayList<>());

    private PolicyDecisions askingAhead(AtomicReference<java.time.Instant> now) {
        return new PolicyDecisions(input -> {
            questions.add(input);
            return opa(input);
        }, new DecisionCache(1_000_000_000L, 100, () -> now.get().toEpochMilli() * 1_000_000L), JSON,
                java.time.Duration.ofMillis(200), now::get);
    }

    private void awaitQuestions(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (asked.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    @Test
    void inTheLastPartOfASecondTheNextSecondsQuestionIsAskedAheadAndItsRequestsFindTheAnswer() throws Exception {
        long second = 1_900_000_000L;
        var now = new AtomicReference<>(java.time.Instant.ofEpochMilli(second * 1000 + 850));
        var decisions = askingAhead(now);
        assertFalse(decisions.decide(inputAt(second)).cached());
        awaitQuestions(2);
        assertEquals(2, asked.get(), "this second's question, and the next second's asked ahead");
        assertTrue(questions.contains(inputAt(second + 1)), "the same input, one second later: " + questions);
        decisions.decide(inputAt(second)); // asked ahead once per input and second
        now.set(java.time.Instant.ofEpochMilli((second + 1) * 1000 + 5));
        var answer = decisions.decide(inputAt(second + 1));
        assertTrue(answer.cached(), "the first request of the next second did not ask OPA");
        assertSame(ALLOW, answer.decision());
        now.set(java.time.Instant.ofEpochMilli((second + 1) * 1000 + 790));
        assertTrue(decisions.decide(inputAt(second + 1)).cached(), "the answer asked ahead serves its whole second");
        assertEquals(2, asked.get());
    }

    @Test
    void earlierInASecondOrWithMonthToDateUsageNothingIsAskedAhead() throws Exception {
        long second = 1_900_000_000L;
        var now = new AtomicReference<>(java.time.Instant.ofEpochMilli(second * 1000 + 700));
        var decisions = askingAhead(now);
        decisions.decide(inputAt(second));
        now.set(java.time.Instant.ofEpochMilli(second * 1000 + 900));
        var withUsage = new java.util.HashMap<>(inputAt(second));
        withUsage.put("usage", Map.of("period", "2030-03", "tenant", Map.of("tokens", 1, "cost", 0.0)));
        decisions.decide(withUsage);
        Thread.sleep(100);
        assertEquals(2, asked.get(), "only the two requests' own questions");
    }

    @Test
    void anAskAheadThatFailsDropsTheCachedDecisions() throws Exception {
        long second = 1_900_000_000L;
        var now = new AtomicReference<>(java.time.Instant.ofEpochMilli(second * 1000 + 100));
        var decisions = askingAhead(now);
        decisions.decide(inputAt(second)); // cached for this second
        assertTrue(decisions.decide(inputAt(second)).cached());
        opaDown.set(true);
        now.set(java.time.Instant.ofEpochMilli(second * 1000 + 950));
        assertTrue(decisions.decide(inputAt(second)).cached(), "the request itself is answered from the cache");
        awaitQuestions(2);
        Thread.sleep(50); // the failed question has dropped the cache by now
        assertThrows(GatewayException.class, () -> decisions.decide(inputAt(second)),
                "OPA failed: the cached decision is no longer served");
    }
}
