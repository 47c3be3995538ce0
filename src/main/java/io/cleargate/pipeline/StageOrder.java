package io.cleargate.pipeline;

import java.util.List;

/**
 * The one place where the pipeline's order is declared.
 *
 * <pre>
 * request:  authenticate → resolve-tenant → policy → input-moderation → routing → audit → output-moderation → model-refusal → [engine]
 * response:                                           [engine] → model-refusal → output-moderation → audit → routing → ...
 * </pre>
 *
 * Response stages run in reverse, so output moderation sees the engine's text first and audit
 * records what moderation released. Model-refusal sits next to the engine so it reads the model's own
 * text and finish reason, before the tenant's filter redacts or stops anything: the model's
 * refusals are never confused with the tenant's. It never changes the model's text; under a tenant's retry policy it
 * holds the answer back and may have it generated again on another backend before anything reaches the later stages. Audit sits after routing so its request record, committed
 * before the engine is called, already holds the decision, the verdicts and the chosen backend.
 * Every stage's {@code onComplete} runs (in reverse) even when an earlier stage short-circuits, so
 * a denial by authentication or policy is still recorded by audit.
 */
public final class StageOrder {

    public static final List<StageName> ORDER = List.of(
            StageName.AUTHENTICATE,
            StageName.RESOLVE_TENANT,
            StageName.POLICY,
            StageName.INPUT_MODERATION,
            StageName.ROUTING,
            StageName.AUDIT,
            StageName.OUTPUT_MODERATION,
            StageName.MODEL_REFUSAL);

    private StageOrder() {}
}
