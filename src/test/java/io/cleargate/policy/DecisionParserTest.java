package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecisionParserTest {

    private static Map<String, Object> allowing() {
        Map<String, Object> d = new HashMap<>();
        d.put("allow", true);
        d.put("reasons", List.of());
        d.put("regions", List.of("eu-west"));
        d.put("limits", Map.of("max_tokens", 2048, "requests_per_minute", 60, "tokens_per_minute", 1000));
        d.put("moderation", Map.of("profile", "strict", "overrides", Map.of("pii.email", "redact")));
        d.put("audit", Map.of("content_mode", "redacted", "content_retention_days", 30, "metadata_retention_days", 365));
        d.put("revision", "abc");
        return d;
    }

    @Test
    void completeAllowingDecisionIsRead() {
        PolicyDecision d = DecisionParser.parse(allowing(), "id-1", Map.of("tenant", "t"));
        assertTrue(d.allow());
        assertEquals(2048, d.limits().maxTokens());
        assertEquals("redact", d.moderation().overrides().get("pii.email"));
        assertEquals("id-1", d.decisionId());
        assertEquals("abc", d.bundleRevision());
    }

    @Test
    void allowThatIsNotABooleanIsMalformed() {
        var d = allowing();
        d.put("allow", "yes");
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(d, null, Map.of()));
    }

    @Test
    void allowingDecisionWithoutRegionsOrAuditIsMalformed() {
        var noRegions = allowing();
        noRegions.put("regions", List.of());
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(noRegions, null, Map.of()));
        var noAudit = allowing();
        noAudit.remove("audit");
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(noAudit, null, Map.of()));
        var badMode = allowing();
        badMode.put("audit", Map.of("content_mode", "plaintext", "content_retention_days", 1, "metadata_retention_days", 1));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(badMode, null, Map.of()));
    }

    @Test
    void allowingDecisionThatAlsoGivesReasonsIsMalformed() {
        var d = allowing();
        d.put("reasons", List.of(Map.of("code", "x", "message", "y")));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(d, null, Map.of()));
    }

    @Test
    void denialWithoutReasonsGetsAGenericOneAndTheMostPrivateAudit() {
        PolicyDecision d = DecisionParser.parse(Map.of("allow", false), null, Map.of());
        assertFalse(d.allow());
        assertEquals("denied", d.reasons().getFirst().code());
        assertEquals("hash-only", d.audit().contentMode());
    }

    @Test
    void nonObjectResultIsMalformed() {
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(List.of(), null, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(true, null, Map.of()));
    }

    @Test
    void aPriceAndBudgetsAreReadAndAPriceCostsInBillionths() {
        var d = allowing();
        d.put("price", Map.of("currency", "USD", "prompt_per_million", 0.27, "completion_per_million", 1.1));
        d.put("budgets", List.of(Map.of("name", "monthly", "scope", "tenant", "tokens", 10)));
        PolicyDecision parsed = DecisionParser.parse(d, null, Map.of());
        assertEquals(new PolicyDecision.Price("USD", 0.27, 1.1), parsed.price());
        assertEquals(List.of("monthly"), parsed.budgetNames());
        assertEquals(new PolicyDecision.Budget("monthly", "tenant", 10L, null), parsed.budgets().getFirst(),
                "the limit is read too: the gateway holds requests in flight against it");
        assertTrue(parsed.budgeted());
        d.put("budgets", List.of(Map.of("name", "monthly", "scope", "team", "tokens", 10)));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(d, null, Map.of()), "unknown scope");
        d.put("budgets", List.of(Map.of("name", "monthly", "scope", "key", "tokens", 10, "cost", 1)));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(d, null, Map.of()), "two limits");
        // 1000 prompt tokens at 0.27 per million = 0.00027 = 270,000 nano-dollars; 10 completion tokens 11,000.
        assertEquals(281_000, parsed.price().costNanos(1000, 10));
    }

    @Test
    void anUnpricedModelAndATenantWithoutBudgetsAreNeitherPricedNorBudgeted() {
        PolicyDecision parsed = DecisionParser.parse(allowing(), null, Map.of());
        assertEquals(null, parsed.price());
        assertFalse(parsed.budgeted());
    }

    @Test
    void aNegativePriceOrABudgetWithoutANameIsMalformed() {
        var negative = allowing();
        negative.put("price", Map.of("currency", "USD", "prompt_per_million", -1, "completion_per_million", 1));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(negative, null, Map.of()));
        var nameless = allowing();
        nameless.put("budgets", List.of(Map.of("scope", "tenant", "tokens", 1)));
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(nameless, null, Map.of()));
    }

    @Test
    void aDenialForABudgetAloneIsTheOnlyOneAnsweredAsABudget() {
        Map<String, Object> over = new HashMap<>();
        over.put("allow", false);
        over.put("reasons", List.of(Map.of("code", "budget_exceeded", "message", "The budget 'b' is used up.")));
        assertTrue(DecisionParser.parse(over, null, Map.of()).deniedOnlyForBudget());
        over.put("reasons", List.of(Map.of("code", "budget_exceeded", "message", "m"),
                Map.of("code", "missing_role", "message", "m")));
        assertFalse(DecisionParser.parse(over, null, Map.of()).deniedOnlyForBudget());
    }

    @Test
    void theModelRefusalActionIsReadAndObserveIsTheDefault() {
        assertEquals(PolicyDecision.ModelRefusalAction.OBSERVE, DecisionParser.parse(allowing(), null, Map.of()).modelRefusal());
        for (var action : PolicyDecision.ModelRefusalAction.values()) {
            var d = allowing();
            d.put("model_refusal", Map.of("action", action.id()));
            assertEquals(action, DecisionParser.parse(d, null, Map.of()).modelRefusal());
        }
    }

    @Test
    void aModelRefusalActionOutsideObserveFlagAndRetryIsMalformedAndNamed() {
        var unknown = allowing();
        unknown.put("model_refusal", Map.of("action", "block"));
        var e = assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(unknown, null, Map.of()));
        assertTrue(e.getMessage().contains("model_refusal.action 'block'"), e.getMessage());
        var notAnObject = allowing();
        notAnObject.put("model_refusal", "retry");
        assertThrows(IllegalArgumentException.class, () -> DecisionParser.parse(notAnObject, null, Map.of()));
        var denied = allowing();
        denied.put("allow", false);
        denied.put("model_refusal", Map.of("action", 7));
        assertEquals(PolicyDecision.ModelRefusalAction.OBSERVE, DecisionParser.parse(denied, null, Map.of()).modelRefusal(),
                "a denial reads its settings leniently");
    }
}
