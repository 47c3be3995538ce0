package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Decisions for the policy stage: OPA behind a {@link DecisionCache}.
 *
 * <p>Requests that miss the cache with the same input at the same time ask OPA once: the first
 * asks, the others wait for its answer (or its refusal). Without that, every cache expiry under
 * load sends one identical question per request in flight to OPA, on a core the gateway shares.
 * A request that arrives after a policy change never waits for a question asked before it.
 *
 * <p>The input carries the time in whole seconds, so each second the first request with a given
 * input asked OPA while it waited (and every request with that input arriving meanwhile waited
 * with it): on a core shared with OPA that question took 3-15 ms, the slowest first tokens of a
 * stream run (bench/results/speed.md section 22). With an ask-ahead lead, a request in the last
 * part of a second asks, on a virtual thread of its own, the question the same input will put in
 * the next second (its time one second later; never an input with month-to-date usage, which moves
 * with every answer), and caches the answer for that second. It is the decision OPA gives that
 * input, asked at most the lead before its second begins; requests of that second that come before
 * it join the question as they join any other.
 *
 * <p>When OPA is down, no cached decision is served: a failed question (asked ahead or not) drops
 * every cached decision, so from the first failure on each request asks OPA and is refused (503)
 * until OPA answers again. A decision is only ever reused within the cache's TTL (one second by
 * default) after it was asked, plus, for one asked ahead, the lead; and only while OPA has not
 * failed since it was stored.
 */
public class PolicyDecisions {

    /** The decision and whether it came from the cache or another request's question (audit records both). */
    public record Answer(PolicyDecision decision, boolean cached) {}

    private record Question(String key, long generation) {}

    private final Function<Map<String, Object>, PolicyDecision> opa;
    private final DecisionCache cache;
    private final ObjectMapper canonical;
    private final Map<Question, CompletableFuture<PolicyDecision>> asking = new ConcurrentHashMap<>();
    /** How long before a second begins its questions may be asked; 0: never ahead. */
    private final long aheadMillis;
    private final InstantSource clock;
    /** Per input (its key), the last second a question was asked ahead for; bounded like the cache. */
    private final Map<String, Long> askedAhead = new ConcurrentHashMap<>();

    /** Without asking ahead. */
    public PolicyDecisions(OpaClient opa, DecisionCache cache, ObjectMapper json) {
        this(opa::decide, cache, json, Duration.ZERO, InstantSource.system());
    }

    /** Asking the next second's questions up to {@code askAhead} before it begins (zero: never). */
    public PolicyDecisions(OpaClient opa, DecisionCache cache, ObjectMapper json, Duration askAhead) {
        this(opa::decide, cache, json, askAhead, InstantSource.system());
    }

    /** For tests: {@code opa} stands for the client (it throws GatewayException when OPA fails). */
    PolicyDecisions(Function<Map<String, Object>, PolicyDecision> opa, DecisionCache cache, ObjectMapper json) {
        this(opa, cache, json, Duration.ZERO, InstantSource.system());
    }

    /** For tests: as above, asking ahead by {@code askAhead} on {@code clock}'s time. */
    PolicyDecisions(Function<Map<String, Object>, PolicyDecision> opa, DecisionCache cache, ObjectMapper json,
            Duration askAhead, InstantSource clock) {
        if (askAhead.isNegative() || askAhead.toMillis() >= 1000) {
            throw new IllegalArgumentException("the ask-ahead lead must be under a second: " + askAhead);
        }
        this.opa = opa;
        this.cache = cache;
        this.canonical = json.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
        this.aheadMillis = askAhead.toMillis();
        this.clock = clock;
    }

    public Answer decide(Map<String, Object> input) {
        if (!cache.enabled()) {
            return new Answer(opa.apply(input), false);
        }
        String key = key(input);
        var hit = cache.get(key);
        askAhead(key, input); // after the lookup: a failed question asked ahead never takes this request's answer
        if (hit.isPresent()) {
            return new Answer(hit.get(), true);
        }
        var question = new Question(key, cache.generation());
        var mine = new CompletableFuture<PolicyDecision>();
        var earlier = asking.putIfAbsent(question, mine);
        if (earlier != null) {
            return new Answer(await(earlier), true);
        }
        return new Answer(ask(question, input, mine, 0), false);
    }

    /**
     * Asks OPA the question registered as {@code mine}, caches the answer ({@code laterNanos} longer
     * than the TTL) and hands it to whoever waits for it.
     */
    private PolicyDecision ask(Question question, Map<String, Object> input, CompletableFuture<PolicyDecision> mine,
            long laterNanos) {
        try {
            PolicyDecision decision = opa.apply(input);
            cache.put(question.key(), decision, question.generation(), laterNanos);
            mine.complete(decision);
            return decision;
        } catch (RuntimeException e) {
            cache.invalidateAll(); // OPA failed: no cached decision is served until it answers again
            mine.completeExceptionally(e);
            throw e;
        } finally {
            asking.remove(question, mine);
        }
    }

    /**
     * In the last {@link #aheadMillis} of a second, asks once (per input) the question {@code input}
     * will put in the next second, on a virtual thread; the request does not wait for it.
     */
    private void askAhead(String key, Map<String, Object> input) {
        if (aheadMillis == 0) {
            return;
        }
        long now = clock.millis();
        if (Math.floorMod(now, 1000L) < 1000 - aheadMillis) {
            return;
        }
        long second = Math.floorDiv(now, 1000L);
        Long before = askedAhead.put(key, second + 1);
        if (before != null && before == second + 1) {
            return; // already asked ahead for this input
        }
        if (askedAhead.size() > cache.maxEntries()) {
            askedAhead.clear(); // bounded: at worst an input is asked ahead twice
        }
        Map<String, Object> next = PolicyInput.atNextSecond(input, second);
        if (next == null) {
            return;
        }
        String nextKey = key(next);
        if (cache.get(nextKey).isPresent()) {
            return;
        }
        var question = new Question(nextKey, cache.generation());
        var mine = new CompletableFuture<PolicyDecision>();
        if (asking.putIfAbsent(question, mine) != null) {
            return;
        }
        // Its TTL runs from when its second begins, so it serves the whole second, as one asked then would.
        long untilItsSecond = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1000 - Math.floorMod(now, 1000L));
        Thread.ofVirtual().name("policy-ask-ahead").start(() -> {
            try {
                ask(question, next, mine, untilItsSecond);
            } catch (RuntimeException e) {
                // Dropped the cache (fail closed); the requests of that second ask again, or were refused with it.
            }
        });
    }

    /** The answer to a question another request is asking; its refusal is this request's refusal. */
    private static PolicyDecision await(CompletableFuture<PolicyDecision> question) {
        try {
            return question.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Drops every cached decision; called whenever a policy or its data changes. */
    public void policyChanged() {
        cache.invalidateAll();
    }

    /** The input as JSON with every object's keys sorted, so equal inputs give equal keys whatever the maps' order. */
    String key(Map<String, Object> input) {
        try {
            return canonical.writeValueAsString(input);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("policy input is not serialisable", e);
        }
    }
}
