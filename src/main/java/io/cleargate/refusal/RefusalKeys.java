package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalVerdict;

import io.cleargate.pipeline.Exchange;

/** Exchange attributes of the model-refusal stage; audit and metrics read {@link #VERDICT}. */
public final class RefusalKeys {

    /** The verdict on the model's answer, set once the answer ended (or the request did). */
    public static final Exchange.Key<RefusalVerdict> VERDICT = Exchange.Key.of("model-refusal", RefusalVerdict.class);

    /** What the tenant's policy had done about it (flag, retry), set with the verdict of a finished answer. */
    public static final Exchange.Key<RefusalHandling> HANDLING = Exchange.Key.of("model-refusal-handling",
            RefusalHandling.class);

    static final Exchange.Key<Answer> ANSWER = Exchange.Key.of("model-refusal-answer", Answer.class);

    private RefusalKeys() {}
}
