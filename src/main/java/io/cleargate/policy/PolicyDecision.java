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
 * @param budgets        the names of the tenant's monthly budgets; empty when it has none
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
        List<String> budgets) {

    public static final Exchange.Key<PolicyDecision> KEY = Exchange.Key.of("policy-decision", PolicyDecision.class);

    /** The reason code of a used-up budget. */
    public static final String BUDGET_EXCEEDED = "budget_exceeded";

    public PolicyDecision {
        reasons = List.copyOf(reasons);
        regions = List.copyOf(regions);
        input = input == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(input));
        models = models == null ? List.of() : List.copyOf(models);
        budgets = budgets == null ? List.of() : List.copyOf(budgets);
    }

    /** A decision without prices or budgets. */
    public PolicyDecision(boolean allow, List<Reason> reasons, List<String> regions, Limits limits,
            ModerationSettings moderation, AuditSettings audit, String decisionId, String bundleRevision,
            Map<String, Object> input, List<String> models) {
        this(allow, reasons, regions, limits, moderation, audit, decisionId, bundleRevision, input, models, null,
                List.of());
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
