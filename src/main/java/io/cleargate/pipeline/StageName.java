package io.cleargate.pipeline;

/** Names of the pipeline stages. Their order is declared once, in {@link StageOrder}. */
public enum StageName {
    AUTHENTICATE,
    RESOLVE_TENANT,
    POLICY,
    INPUT_MODERATION,
    ROUTING,
    AUDIT,
    OUTPUT_MODERATION,
    MODEL_REFUSAL;

    /** The kebab-case name used in configuration and metrics. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
