package io.cleargate.domain;

/**
 * A generation in progress. The consumer pulls events on its own (virtual) thread; the stream
 * ends after a {@link EngineEvent.Finish} or an {@link EngineException}. Closing it before the end
 * cancels the generation (and, for an upstream, the HTTP request), which is how a client
 * disconnect propagates.
 */
public interface EngineStream extends AutoCloseable {

    /** Blocks until the next event. Never returns null; throws when the engine fails or times out. */
    EngineEvent next() throws EngineException;

    /** Cancels generation if it is still running. Idempotent. */
    @Override
    void close();
}
