package io.cleargate.pipeline;

/**
 * One step of the request pipeline. See package-info for the contract every stage obeys.
 * Implementations are CDI beans; their position comes from {@link StageOrder}, never from the bean.
 */
public interface Stage {

    /** The stage's place in {@link StageOrder}. */
    StageName name();

    /**
     * Whether a phase of this stage may block its thread (a database, OPA, a lock held for long).
     * A stage that says no never blocks and never asks for a {@link ChunkResult.Retry}; when every
     * enabled stage says no, requests run on the event loop that read them.
     */
    default boolean blocks() {
        return true;
    }

    /**
     * Whether the response phase may block its thread for this chunk. A stream whose chunks no
     * response stage blocks on is served on the event loop its upstream answers on; a chunk some
     * stage blocks on moves the rest of the response to a virtual thread. Defaults to {@link #blocks()}.
     */
    default boolean blocksOn(ResponseChunk chunk) {
        return blocks();
    }

    /**
     * Whether this stage may ask for this exchange's answer again ({@link ChunkResult.Retry}), which
     * opens another backend and so blocks: such an exchange is served on a virtual thread.
     */
    default boolean mayAskForRetry(Exchange exchange) {
        return false;
    }

    /** Request phase: runs in declared order before the engine is called. */
    default StageResult onRequest(Exchange exchange) {
        return StageResult.forward();
    }

    /**
     * Response phase: runs in reverse order for every chunk, the last one with endOfStream set.
     * Only called for stages whose request phase forwarded.
     */
    default ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        return ChunkResult.pass(chunk);
    }

    /**
     * Called exactly once per request for every enabled stage, in reverse order, whatever happened:
     * success, short-circuit by any stage, engine failure or client disconnect. The exchange's
     * {@link Exchange#outcome()} says which. Must not throw.
     */
    default void onComplete(Exchange exchange) {}
}
