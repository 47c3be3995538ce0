package io.cleargate.policy;

import io.cleargate.pipeline.Exchange;
import java.util.List;
import java.util.Map;

/**
 * The tenant policy's answer for one request (data.cleargate.decision in OPA). The policy stage
 * records it on the exchange; routing, moderation and audit read their parts from it.
 *
 * @param allow          whether the request may proceed
 * @param reasons        why (shown to the client on deny)
 * @param regions        regions where the request may be processed
 * @param limits         token and rate limits
 * @param moderation     the moderation profile and overrides to apply
 * @param audit          how the audit trail stores content and for how long
 * @param decisionId     OPA's decision id, for correlation
 * @param bundleRevision the policy bundle revision that decided
 * @param input          the exact input document sent to OPA (holds no prompt text)
 * @param models         the models the tenant may use ("*" for every one); empty when the policy names none
 * @param price          what the requested model costs this tenant; null when nothing prices it
 * @param budgets        the tenant's monthly budgets; empty when it has none
 * @param modelRefusal   what the gateway does when the model itself refuses or deflects (observe when the policy names nothing)
 */
public record PolicyDecision(
        boolean allow,
        List<Reason> reasons,
        List<String> regions,
        Limits limits,
        ModerationSettings moderation,
        AuditSettings audit,
        String decisionId,
        String bundleRevision,
        Map<String, Object> input,
        List<String> models,
        Price price,
        List<Budget> budgets,
        ModelRefusalAction modelRefusal) {

    public static final Exchange.Key<PolicyDecision> KEY = Exchange.Key.of("policy-decision", PolicyDecision.class);

    /** The reason code of a used-up budget. */
    public static final String BUDGET_EXCEEDED = "budget_exceeded";

    public PolicyDecision {
        reasons = List.copyOf(reasons);
        regions = List.copyOf(regions);
        // In key order: the input is written into the audit records of every request this decision serves.
        input = input == null ? Map.of() : io.cleargate.domain.KeyOrder.copyOf(input);
        models = models == null ? List.of() : List.copyOf(models);
        budgets = budgets == null ? List.of() : List.copyOf(budgets);
        modelRefusal = modelRefusal == null ? ModelRefusalAction.OBSERVE : modelRefusal;
    }

    /** A decision that says nothing about the model's own refusals: they are observed. */
    public PolicyDecision(boolean allow, List<Reason> reasons, List<String> regions, Limits limits,
            ModerationSettings moderation, AuditSettings audit, String decisionId, String bundleRevision,
            Map<String, Object> input, List<String> models, Price price, List<Budget> budgets) {
        this(allow, reasons, regions, limits, moderation, audit, decisionId, bundleRevision, input, models, price,
                budgets, ModelRefusalAction.OBSERVE);
    }

    /** A decision without prices or budgets. */
    public PolicyDecision(boolean allow, List<Reason> reasons, List<String> regions, Limits limits,
            ModerationSettings moderation, AuditSettings audit, String decisionId, String bundleRevision,
            Map<String, Object> input, List<String> models, ModelRefusalAction modelRefusal) {
        this(allow, reasons, regions, limits, moderation, audit, decisionId, bundleRevision, input, models, null,
                List.of(), modelRefusal);
    }

    /** A decision without prices, budgets or a model-refusal action. */
    public PolicyDecision(boolean allow, List<Reason> reasons, List<String> regions, Limits limits,
            ModerationSettings moderation, AuditSettings audit, String decisionId, String bundleRevision,
            Map<String, Object> input, List<String> models) {
        this(allow, reasons, regions, limits, moderation, audit, decisionId, bundleRevision, input, models, null,
                List.of(), ModelRefusalAction.OBSERVE);
    }

    /** A decision that names no models (as policies did before model listing was governed). */
    public PolicyDecision(boolean allow, List<Reason> reasons, List<String> regions, Limits limits,
            ModerationSettings moderation, AuditSettings audit, String decisionId, String bundleRevision,
            Map<String, Object> input) {
        this(allow, reasons, regions, limits, moderation, audit, decisionId, bundleRevision, input, List.of());
    }

    /** Whether the tenant may use {@code model}; a decision naming no models allows none. */
    public boolean allowsModel(String model) {
        return models.contains("*") || models.contains(model);
    }

    /** True when the only reason to deny is the model: the caller is told the model does not exist. */
    public boolean deniedOnlyForModel() {
        return !allow && !reasons.isEmpty() && reasons.stream().allMatch(r -> "model_not_allowed".equals(r.code()));
    }

    /** True when the tenant has budgets: its requests are decided on its month-to-date usage. */
    public boolean budgeted() {
        return !budgets.isEmpty();
    }

    /** The budgets' names, in the policy's order. */
    public List<String> budgetNames() {
        return budgets.stream().map(Budget::name).toList();
    }

    /**
     * A monthly budget of the tenant ({@code scope} "tenant") or of each of its keys and users
     * ("key"), in tokens or in cost (the policy's currency): exactly one of the two is set.
     */
    public record Budget(String name, String scope, Long tokens, Double cost) {
        public Budget {
            if (!"tenant".equals(scope) && !"key".equals(scope)) {
                throw new IllegalArgumentException("budget " + name + ": scope must be tenant or key");
            }
            if ((tokens == null) == (cost == null)) {
                throw new IllegalArgumentException("budget " + name + ": exactly one of tokens and cost");
            }
        }
    }

    /** True when the only reason to deny is a used-up budget: 429, not 403. */
    public boolean deniedOnlyForBudget() {
        return !allow && !reasons.isEmpty() && reasons.stream().allMatch(r -> BUDGET_EXCEEDED.equals(r.code()));
    }

    public record Reason(String code, String message) {}

    /**
     * A model's price: currency units per million prompt and per million completion tokens. One
     * token at a price of p per million costs p micro-units, so costs are kept in nano-units
     * (p × 1000 per token) and stay whole for prices with up to three decimals.
     */
    public record Price(String currency, double promptPerMillion, double completionPerMillion) {
        /** The cost of a request's tokens in nano-units of the currency, rounded to the nearest. */
        public long costNanos(long promptTokens, long completionTokens) {
            return Math.round(promptTokens * promptPerMillion * 1000 + completionTokens * completionPerMillion * 1000);
        }
    }

    /**
     * The tenant's choice for answers the model itself declined ({@code model_refusal.action} in the
     * decision). The verdict is always reported and audited; this says what happens beyond that.
     */
    public enum ModelRefusalAction {
        /** Report and audit the verdict; nothing else (the default). */
        OBSERVE,
        /** Also tell the caller plainly, with a notice beside the verdict, that the model declined. */
        FLAG,
        /**
         * Ask another eligible backend once (same model, a region and jurisdiction the tenant
         * allows) while nothing of the answer has reached the client; otherwise flag.
         */
        RETRY;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** The action named {@code id}; empty for anything else. */
        public static java.util.Optional<ModelRefusalAction> of(String id) {
            for (ModelRefusalAction a : values()) {
                if (a.id().equals(id)) {
                    return java.util.Optional.of(a);
                }
            }
            return java.util.Optional.empty();
        }
    }

    /** Null members mean "no limit from policy". */
    public record Limits(Integer maxTokens, Integer requestsPerMinute, Integer tokensPerMinute) {}

    /** @param profile profile name in policies/; @param overrides per-rule action overrides (rule id → action) */
    public record ModerationSettings(String profile, Map<String, String> overrides) {
        public ModerationSettings {
            overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
        }
    }

    /**
     * @param contentMode      encrypted, redacted or hash-only
     * @param contentRetentionDays  how long prompt and output content is kept
     * @param metadataRetentionDays how long the rest of the record is kept
     */
    public record AuditSettings(String contentMode, int contentRetentionDays, int metadataRetentionDays) {}
}
