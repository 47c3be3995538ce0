package io.cleargate.moderation;

import io.cleargate.pipeline.Exchange;

/** Exchange attributes owned by moderation. */
public final class ModerationKeys {

    /**
     * Every verdict of the request, input first, then output as it is released: the cumulative
     * list, replaced as verdicts are added. Audit records it.
     */
    public static final Exchange.Key<VerdictList> VERDICTS = Exchange.Key.of("moderation-verdicts", VerdictList.class);

    /** The profile applied to this request, for audit and explanations. */
    public static final Exchange.Key<String> PROFILE = Exchange.Key.of("moderation-profile", String.class);

    static final Exchange.Key<RuleSet> RULES = Exchange.Key.of("moderation-rules", RuleSet.class);
    static final Exchange.Key<Placeholders> PLACEHOLDERS = Exchange.Key.of("moderation-placeholders", Placeholders.class);
    static final Exchange.Key<ResponseModeration> OUTPUT = Exchange.Key.of("moderation-output", ResponseModeration.class);
    static final Exchange.Key<OutputModerationStage.Choices> CHOICES =
            Exchange.Key.of("moderation-choices", OutputModerationStage.Choices.class);

    private ModerationKeys() {}
}
