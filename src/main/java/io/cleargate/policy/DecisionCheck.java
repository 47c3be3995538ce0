package io.cleargate.policy;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Holds a draft to the decision contract before it can go live: every decision a what-if or an
 * activation evaluates goes through the same {@link DecisionParser} the policy stage uses, so a
 * draft that compiles and passes its tests but answers, say, a non-array {@code regions} is
 * rejected instead of turning every affected request into 503 {@code policy_malformed}.
 *
 * <p>Recorded traffic may not cover every tenant, so the check also evaluates probes: for each
 * tenant in the draft's {@code data.cleargate.tenants}, a chat request for each model it allows
 * and a model listing, from a caller holding the gateway-user role (decisions that allow, which
 * are the ones that must be complete).
 */
final class DecisionCheck {

    /** One decision that the gateway could not use. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Malformed(String source, Object tenant, Object endpoint, Object model, String problem) {}

    static final String PROBE_SUBJECT = "policy-activation-probe";
    static final String ANY_MODEL_PROBE = "any-model-probe";
    private static final int MAX_MODELS_PER_TENANT = 20;

    private DecisionCheck() {}

    /** The probe inputs for the tenants of a tree's {@code data.cleargate.tenants} (null or not an object: none). */
    static List<Map<String, Object>> probes(Object tenants, Instant now) {
        List<Map<String, Object>> probes = new ArrayList<>();
        if (!(tenants instanceof Map<?, ?> byId)) {
            return probes;
        }
        String time = now.truncatedTo(ChronoUnit.SECONDS).toString();
        byId.forEach((id, settings) -> {
            List<String> models = new ArrayList<>();
            if (settings instanceof Map<?, ?> s && s.get("models") instanceof List<?> listed) {
                for (Object m : listed) {
                    if (m instanceof String model && models.size() < MAX_MODELS_PER_TENANT) {
                        models.add("*".equals(model) ? ANY_MODEL_PROBE : model);
                    }
                }
            }
            if (models.isEmpty()) {
                models.add(ANY_MODEL_PROBE);
            }
            for (String model : models.stream().distinct().toList()) {
                probes.add(probe(String.valueOf(id), "/v1/chat/completions", model, time));
            }
            probes.add(probe(String.valueOf(id), "/v1/models", null, time));
        });
        return probes;
    }

    private static Map<String, Object> probe(String tenant, String endpoint, String model, String time) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("endpoint", endpoint);
        if (model != null) {
            request.put("model", model);
        }
        request.put("stream", false);
        request.put("max_tokens", 16);
        request.put("estimated_prompt_tokens", 8);
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("tenant", tenant);
        input.put("subject", Map.of("id", PROBE_SUBJECT, "roles", List.of("gateway-user"), "auth_method", "api_key"));
        input.put("request", request);
        input.put("context", Map.of("time", time));
        return input;
    }

    /**
     * Parses each decision as the policy stage would; {@code decisions.get(i)} answers
     * {@code inputs.get(i)}, and {@code source} says where that input came from. An undefined
     * decision (null) is malformed too: the gateway would refuse it with 503 policy_undefined.
     */
    static List<Malformed> malformed(List<Map<String, Object>> inputs, List<Map<String, Object>> decisions,
            List<String> sources) {
        List<Malformed> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            Map<String, Object> input = inputs.get(i);
            Map<String, Object> decision = i < decisions.size() ? decisions.get(i) : null;
            String problem;
            if (decision == null) {
                problem = "the decision is undefined (data.cleargate.decision has no value for this input)";
            } else {
                try {
                    DecisionParser.parse(decision, null, input);
                    continue;
                } catch (IllegalArgumentException e) {
                    problem = e.getMessage();
                }
            }
            Map<?, ?> request = input.get("request") instanceof Map<?, ?> r ? r : Map.of();
            out.add(new Malformed(sources.get(i), input.get("tenant"), request.get("endpoint"), request.get("model"),
                    problem));
        }
        return out;
    }

    /** The first allowing, well-formed decision of each tenant's chat probes, by tenant id. */
    static Map<String, PolicyDecision> allowedByTenant(List<Map<String, Object>> probes,
            List<Map<String, Object>> decisions) {
        Map<String, PolicyDecision> byTenant = new LinkedHashMap<>();
        for (int i = 0; i < probes.size(); i++) {
            Map<String, Object> input = probes.get(i);
            String tenant = String.valueOf(input.get("tenant"));
            if (byTenant.containsKey(tenant) || decisions.get(i) == null
                    || !"/v1/chat/completions".equals(((Map<?, ?>) input.get("request")).get("endpoint"))) {
                continue;
            }
            try {
                PolicyDecision decision = DecisionParser.parse(decisions.get(i), null, input);
                if (decision.allow()) {
                    byTenant.put(tenant, decision);
                }
            } catch (IllegalArgumentException e) {
                // reported by malformed()
            }
        }
        return byTenant;
    }

    /** A short sentence naming the first problems, for the error message. */
    static String describe(List<Malformed> malformed) {
        StringBuilder s = new StringBuilder("The draft would produce ").append(malformed.size())
                .append(malformed.size() == 1 ? " decision" : " decisions")
                .append(" the gateway cannot use (each such request would be refused with 503 policy_malformed): ");
        for (int i = 0; i < Math.min(3, malformed.size()); i++) {
            Malformed m = malformed.get(i);
            s.append(i == 0 ? "" : "; ").append("tenant ").append(m.tenant()).append(' ').append(m.endpoint());
            if (m.model() != null) {
                s.append(" model ").append(m.model());
            }
            s.append(": ").append(m.problem());
        }
        return s.append(malformed.size() > 3 ? "; ..." : ".").toString();
    }
}
