package io.cleargate.domain;

/**
 * A generation in progress. The consumer pulls events on its own (virtual) thread, or, for a
 * stream fed on an event loop, polls them there ({@link #poll}); the stream
 * ends after a {@link EngineEvent.Finish} or an {@link EngineException}. Closing it before the end
 * cancels the generation (and, for an upstream, the HTTP request), which is how a client
 * disconnect propagates.
 */
public interface EngineStream extends AutoCloseable {

    /** Blocks until the next event. Never returns null; throws when the engine fails or times out. */
    EngineEvent next() throws EngineException;

    /**
     * Whether this stream's events arrive on a Vert.x event loop, so that {@link #poll} can be used
     * on that loop instead of blocking in {@link #next}.
     */
    default boolean polls() {
        return false;
    }

    /**
     * On the event loop the stream's events arrive on ({@link #polls}): the next event if it has
     * arrived (or the failure, thrown as by {@code next}); otherwise null, and {@code ready} runs on
     * that loop once the next event, a failure or {@link #close} has come. Never blocks.
     */
    default EngineEvent poll(Runnable ready) throws EngineException {
        throw new UnsupportedOperationException("this stream is read by blocking in next()");
    }

    /** Cancels generation if it is still running. Idempotent. */
    @Override
    void close();
}
