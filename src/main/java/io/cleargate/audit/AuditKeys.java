package io.cleargate.audit;

import io.cleargate.moderation.ModerationKeys;
import io.cleargate.moderation.VerdictList;

import io.cleargate.pipeline.Exchange;

/** Exchange attributes the audit stage reads (and owns). */
public final class AuditKeys {

    /**
     * Moderation verdicts of this request. The moderation stages put the cumulative list here:
     * input verdicts during the request phase, input and output verdicts by the end of the stream.
     */
    public static final Exchange.Key<VerdictList> VERDICTS = ModerationKeys.VERDICTS;

    /** The audit stage's own per-request state. */
    static final Exchange.Key<AuditState> STATE = Exchange.Key.of("audit-state", AuditState.class);

    private AuditKeys() {}
}
