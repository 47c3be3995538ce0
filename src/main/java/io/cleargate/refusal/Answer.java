package io.cleargate.refusal;

import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.policy.PolicyDecision.ModelRefusalAction;
import java.util.ArrayList;
import java.util.List;

/**
 * One request's answer as the model-refusal stage follows it: the start of its text, and under a
 * retry policy the chunks held back until the stage knows whether the model declined. Lives on
 * the exchange; used by one request's thread at a time.
 */
final class Answer {

    final ModelRefusalAction action;
    final List<RefusalHandling.Attempt> earlier = new ArrayList<>();
    Transcript transcript = new Transcript();
    boolean toolCalls;
    /** True while every chunk is held (retry policy, nothing released yet). */
    boolean holding;
    /** True between a retry request and the next backend's first chunk. */
    boolean awaitingRetry;
    private final List<ResponseChunk> held = new ArrayList<>();
    private long heldChars;

    Answer(ModelRefusalAction action) {
        this.action = action;
        this.holding = action == ModelRefusalAction.RETRY;
    }

    void hold(ResponseChunk chunk) {
        held.add(chunk);
        heldChars += chunk.text().length();
    }

    long heldChars() {
        return heldChars;
    }

    /** Everything held so far, in order; holding stops for good. */
    List<ResponseChunk> release() {
        List<ResponseChunk> out = new ArrayList<>(held);
        held.clear();
        heldChars = 0;
        holding = false;
        return out;
    }

    /**
     * The retry was honoured: what comes next is another backend's answer, judged afresh. A stream
     * is no longer held (there is no further retry); a whole answer still is, so its headers carry
     * its own verdict.
     */
    void startOver(boolean stream) {
        transcript = new Transcript();
        toolCalls = false;
        held.clear();
        heldChars = 0;
        holding = !stream;
        awaitingRetry = false;
    }
}
