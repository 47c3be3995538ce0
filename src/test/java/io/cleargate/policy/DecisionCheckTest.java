package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecisionCheckTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00.700Z");

    private static Map<String, Object> allowing() {
        Map<String, Object> d = new HashMap<>();
        d.put("allow", true);
        d.put("reasons", List.of());
        d.put("regions", List.of("eu-west"));
        d.put("limits", Map.of("max_tokens", 2048));
        d.put("moderation", Map.of("profile", "strict", "overrides", Map.of()));
        d.put("audit", Map.of("content_mode", "redacted", "content_retention_days", 30, "metadata_retention_days", 365));
        return d;
    }

    @Test
    void probesAskForEveryAllowedModelAndTheModelListingOfEveryTenant() {
        var probes = DecisionCheck.probes(Map.of(
                "acme-eu", Map.of("models", List.of("a", "b")),
                "dev", Map.of("models", List.of("*"))), NOW);
        assertEquals(5, probes.size());
        var models = probes.stream().map(p -> ((Map<?, ?>) p.get("request")).get("model")).toList();
        assertTrue(models.containsAll(List.of("a", "b", DecisionCheck.ANY_MODEL_PROBE)));
        var first = probes.getFirst();
        assertEquals("2026-11-30T12:00:00Z", ((Map<?, ?>) first.get("context")).get("time"));
        assertEquals(List.of("gateway-user"), ((Map<?, ?>) first.get("subject")).get("roles"));
    }

    @Test
    void tenantDataThatIsNotAnObjectGivesNoProbes() {
        assertEquals(List.of(), DecisionCheck.probes("nonsense", NOW));
        assertEquals(List.of(), DecisionCheck.probes(null, NOW));
    }

    @Test
    void decisionsThePolicyStageWouldRefuseAreNamedWithTheirProblem() {
        var broken = allowing();
        broken.put("regions", "eu-west");
        Map<String, Object> input = Map.of("tenant", "acme-eu", "request", Map.of("endpoint", "/v1/chat/completions",
                "model", "m"));
        var malformed = DecisionCheck.malformed(List.of(input, input, input), java.util.Arrays.asList(allowing(), broken,
                null), List.of("recorded", "probe", "probe"));
        assertEquals(2, malformed.size());
        assertEquals("regions is not an array", malformed.get(0).problem());
        assertEquals("probe", malformed.get(0).source());
        assertEquals("acme-eu", malformed.get(0).tenant());
        assertTrue(malformed.get(1).problem().contains("undefined"));
        assertTrue(DecisionCheck.describe(malformed).contains("tenant acme-eu /v1/chat/completions model m: regions is not an array"));
    }

    @Test
    void aDenialNeedsOnlyItsVerdict() {
        Map<String, Object> denial = Map.of("allow", false, "regions", "not checked on a denial");
        assertEquals(List.of(), DecisionCheck.malformed(List.of(Map.of("tenant", "x")), List.of(denial), List.of("probe")));
    }
}
