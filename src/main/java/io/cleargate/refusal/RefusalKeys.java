package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalVerdict;

import io.cleargate.pipeline.Exchange;

/** Exchange attributes of the model-refusal stage; audit and metrics read {@link #VERDICT}. */
public final class RefusalKeys {

    /** The verdict on the model's answer, set once the answer ended (or the request did). */
    public static final Exchange.Key<RefusalVerdict> VERDICT = Exchange.Key.of("model-refusal", RefusalVerdict.class);

    static final Exchange.Key<Transcript> TRANSCRIPT = Exchange.Key.of("model-refusal-transcript", Transcript.class);

    private RefusalKeys() {}
}
