package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Map;

/** Decisions for the policy stage: OPA behind a {@link DecisionCache}. */
public class PolicyDecisions {

    /** The decision and whether it came from the cache (audit records both). */
    public record Answer(PolicyDecision decision, boolean cached) {}

    private final OpaClient opa;
    private final DecisionCache cache;
    private final ObjectMapper canonical;

    public PolicyDecisions(OpaClient opa, DecisionCache cache, ObjectMapper json) {
        this.opa = opa;
        this.cache = cache;
        this.canonical = json.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    }

    public Answer decide(Map<String, Object> input) {
        if (!cache.enabled()) {
            return new Answer(opa.decide(input), false);
        }
        String key = key(input);
        var hit = cache.get(key);
        if (hit.isPresent()) {
            return new Answer(hit.get(), true);
        }
        long generation = cache.generation();
        PolicyDecision decision = opa.decide(input);
        cache.put(key, decision, generation);
        return new Answer(decision, false);
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
