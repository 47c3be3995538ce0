package io.cleargate.policy;

import io.cleargate.policy.PolicyDecision.AuditSettings;
import io.cleargate.policy.PolicyDecision.Limits;
import io.cleargate.policy.PolicyDecision.ModelRefusalAction;
import io.cleargate.policy.PolicyDecision.ModerationSettings;
import io.cleargate.policy.PolicyDecision.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns OPA's decision document into a {@link PolicyDecision}, refusing anything that does not
 * match the contract in policies/README.md. An allowing decision must be complete; a denying one
 * only needs {@code allow} (its settings still reach audit when present).
 */
final class DecisionParser {

    static final Set<String> CONTENT_MODES = Set.of("encrypted", "redacted", "hash-only");

    /** What audit uses when a denial carries no audit settings: keep no content. */
    static final AuditSettings MOST_PRIVATE = new AuditSettings("hash-only", 0, 365);

    private DecisionParser() {}

    /** @throws IllegalArgumentException naming the first member that breaks the contract */
    static PolicyDecision parse(Object result, String decisionId, Map<String, Object> input) {
        Map<String, Object> doc = map(result, "result");
        if (!(doc.get("allow") instanceof Boolean allow)) {
            throw new IllegalArgumentException("allow is not a boolean");
        }
        List<Reason> reasons = reasons(doc.get("reasons"));
        String revision = doc.get("revision") instanceof String r ? r : "unversioned";
        if (!allow) {
            if (reasons.isEmpty()) {
                reasons = List.of(new Reason("denied", "The policy denied the request."));
            }
            return new PolicyDecision(false, reasons, lenientRegions(doc.get("regions")), lenientLimits(doc.get("limits")),
                    lenientModeration(doc.get("moderation")), lenientAudit(doc.get("audit")), decisionId, revision,
                    input, lenientRegions(doc.get("models")), lenientPrice(doc.get("price")),
                    lenientBudgets(doc.get("budgets")), lenientModelRefusal(doc.get("model_refusal")));
        }
        if (!reasons.isEmpty()) {
            throw new IllegalArgumentException("allow is true but reasons are given");
        }
        List<String> regions = strings(doc.get("regions"), "regions");
        if (regions.isEmpty()) {
            throw new IllegalArgumentException("regions is empty");
        }
        return new PolicyDecision(true, reasons, regions, limits(doc.get("limits")), moderation(doc.get("moderation")),
                audit(doc.get("audit")), decisionId, revision, input,
                doc.get("models") == null ? List.of() : strings(doc.get("models"), "models"), price(doc.get("price")),
                budgets(doc.get("budgets")), modelRefusal(doc.get("model_refusal")));
    }

    /** Absent means the model is not priced (it costs nothing). */
    private static PolicyDecision.Price price(Object value) {
        if (value == null) {
            return null;
        }
        Map<String, Object> m = map(value, "price");
        return new PolicyDecision.Price(string(m.get("currency"), "price.currency"),
                nonNegativeNumber(m.get("prompt_per_million"), "price.prompt_per_million"),
                nonNegativeNumber(m.get("completion_per_million"), "price.completion_per_million"));
    }

    /**
     * The budgets: each an object with a name, a scope (tenant or key) and a limit in tokens or in
     * cost. The gateway holds in-flight requests against the limits, so it reads them too.
     */
    private static List<PolicyDecision.Budget> budgets(Object value) {
        if (value == null) {
            return List.of();
        }
        List<PolicyDecision.Budget> budgets = new ArrayList<>();
        for (Object item : list(value, "budgets")) {
            Map<String, Object> b = map(item, "budgets[]");
            String name = string(b.get("name"), "budgets[].name");
            Long tokens = b.get("tokens") == null ? null
                    : (long) nonNegativeNumber(b.get("tokens"), "budgets[].tokens");
            Double cost = b.get("cost") == null ? null : nonNegativeNumber(b.get("cost"), "budgets[].cost");
            budgets.add(new PolicyDecision.Budget(name, string(b.get("scope"), "budgets[].scope"), tokens, cost));
        }
        return budgets;
    }

    private static PolicyDecision.Price lenientPrice(Object value) {
        try {
            return price(value);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static List<PolicyDecision.Budget> lenientBudgets(Object value) {
        try {
            return budgets(value);
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    private static double nonNegativeNumber(Object value, String what) {
        if (value instanceof Number n && n.doubleValue() >= 0 && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException(what + " is not a non-negative number");
    }

    /** Optional: a policy that says nothing observes the model's refusals; one that says something must say it right. */
    private static ModelRefusalAction modelRefusal(Object value) {
        if (value == null) {
            return ModelRefusalAction.OBSERVE;
        }
        String action = string(map(value, "model_refusal").get("action"), "model_refusal.action");
        return ModelRefusalAction.of(action).orElseThrow(() -> new IllegalArgumentException("model_refusal.action '"
                + action + "' is not one of " + Arrays.stream(ModelRefusalAction.values()).map(ModelRefusalAction::id).toList()));
    }

    private static ModelRefusalAction lenientModelRefusal(Object value) {
        try {
            return modelRefusal(value);
        } catch (IllegalArgumentException e) {
            return ModelRefusalAction.OBSERVE;
        }
    }

    private static List<Reason> reasons(Object value) {
        if (value == null) {
            return List.of();
        }
        List<Reason> out = new ArrayList<>();
        for (Object item : list(value, "reasons")) {
            Map<String, Object> r = map(item, "reasons[]");
            out.add(new Reason(string(r.get("code"), "reasons[].code"), string(r.get("message"), "reasons[].message")));
        }
        return out;
    }

    private static Limits limits(Object value) {
        Map<String, Object> m = map(value, "limits");
        return new Limits(positive(m.get("max_tokens"), "limits.max_tokens"),
                positive(m.get("requests_per_minute"), "limits.requests_per_minute"),
                positive(m.get("tokens_per_minute"), "limits.tokens_per_minute"));
    }

    private static ModerationSettings moderation(Object value) {
        Map<String, Object> m = map(value, "moderation");
        Map<String, String> overrides = new LinkedHashMap<>();
        if (m.get("overrides") != null) {
            map(m.get("overrides"), "moderation.overrides").forEach((rule, action) ->
                    overrides.put(rule, string(action, "moderation.overrides." + rule)));
        }
        return new ModerationSettings(string(m.get("profile"), "moderation.profile"), overrides);
    }

    private static AuditSettings audit(Object value) {
        Map<String, Object> m = map(value, "audit");
        String mode = string(m.get("content_mode"), "audit.content_mode");
        if (!CONTENT_MODES.contains(mode)) {
            throw new IllegalArgumentException("audit.content_mode '" + mode + "' is not one of " + CONTENT_MODES);
        }
        int content = nonNegative(m.get("content_retention_days"), "audit.content_retention_days");
        int metadata = nonNegative(m.get("metadata_retention_days"), "audit.metadata_retention_days");
        return new AuditSettings(mode, content, metadata);
    }

    private static List<String> lenientRegions(Object value) {
        try {
            return value == null ? List.of() : strings(value, "regions");
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    private static Limits lenientLimits(Object value) {
        try {
            return limits(value);
        } catch (IllegalArgumentException e) {
            return new Limits(null, null, null);
        }
    }

    private static ModerationSettings lenientModeration(Object value) {
        try {
            return moderation(value);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static AuditSettings lenientAudit(Object value) {
        try {
            return audit(value);
        } catch (IllegalArgumentException e) {
            return MOST_PRIVATE;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what) {
        if (value instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException(what + " is not an object");
    }

    private static List<?> list(Object value, String what) {
        if (value instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException(what + " is not an array");
    }

    private static List<String> strings(Object value, String what) {
        List<String> out = new ArrayList<>();
        for (Object item : list(value, what)) {
            out.add(string(item, what + "[]"));
        }
        return out;
    }

    private static String string(Object value, String what) {
        if (value instanceof String s && !s.isBlank()) {
            return s;
        }
        throw new IllegalArgumentException(what + " is not a non-empty string");
    }

    /** Null stays null: the policy sets no such limit. */
    private static Integer positive(Object value, String what) {
        if (value == null) {
            return null;
        }
        int n = integer(value, what);
        if (n <= 0) {
            throw new IllegalArgumentException(what + " must be positive");
        }
        return n;
    }

    private static int nonNegative(Object value, String what) {
        int n = integer(value, what);
        if (n < 0) {
            throw new IllegalArgumentException(what + " must not be negative");
        }
        return n;
    }

    private static int integer(Object value, String what) {
        if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
            return n.intValue();
        }
        throw new IllegalArgumentException(what + " is not an integer");
    }
}
