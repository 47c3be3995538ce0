package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
 * <p>When OPA is down, no cached decision is served: a failed question drops every cached
 * decision, so from the first failure on each request asks OPA and is refused (503) until OPA
 * answers again. A decision is only ever reused within the cache's TTL (one second by default)
 * and only while OPA has not failed since it was stored.
 */
public class PolicyDecisions {

    /** The decision and whether it came from the cache or another request's question (audit records both). */
    public record Answer(PolicyDecision decision, boolean cached) {}

    private record Question(String key, long generation) {}

    private final Function<Map<String, Object>, PolicyDecision> opa;
    private final DecisionCache cache;
    private final ObjectMapper canonical;
    private final Map<Question, CompletableFuture<PolicyDecision>> asking = new ConcurrentHashMap<>();

    public PolicyDecisions(OpaClient opa, DecisionCache cache, ObjectMapper json) {
        this(opa::decide, cache, json);
    }

    /** For tests: {@code opa} stands for the client (it throws GatewayException when OPA fails). */
    PolicyDecisions(Function<Map<String, Object>, PolicyDecision> opa, DecisionCache cache, ObjectMapper json) {
        this.opa = opa;
        this.cache = cache;
        this.canonical = json.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    }

    public Answer decide(Map<String, Object> input) {
        if (!cache.enabled()) {
            return new Answer(opa.apply(input), false);
        }
        String key = key(input);
        var hit = cache.get(key);
        if (hit.isPresent()) {
            return new Answer(hit.get(), true);
        }
        var question = new Question(key, cache.generation());
        var mine = new CompletableFuture<PolicyDecision>();
        var earlier = asking.putIfAbsent(question, mine);
        if (earlier != null) {
            return new Answer(await(earlier), true);
        }
        try {
            PolicyDecision decision = opa.apply(input);
            cache.put(key, decision, question.generation());
            mine.complete(decision);
            return new Answer(decision, false);
        } catch (RuntimeException e) {
            cache.invalidateAll(); // OPA failed: no cached decision is served until it answers again
            mine.completeExceptionally(e);
            throw e;
        } finally {
            asking.remove(question, mine);
        }
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

    private String key(Map<String, Object> input) {
        try {
            return canonical.writeValueAsString(input);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("policy input is not serialisable", e);
        }
    }
}
