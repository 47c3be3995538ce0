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

    // Computed once: every request asks for the ids of the stages it runs through (spans, metrics).
    private final String id = name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    private final String spanName = "cleargate.stage." + id;

    /** The kebab-case name used in configuration and metrics. */
    public String id() {
        return id;
    }

    /** The name of the tracing span of this stage's request phase. */
    public String spanName() {
        return spanName;
    }
}
