package io.cleargate.pipeline;

import java.util.Map;

/**
 * Where the pipeline writes the response. The API layer provides one for SSE streams and one that
 * gathers a single JSON body. Calls come from one thread at a time, in this order: at most one
 * {@link #start}, then chunks, then exactly one of {@link #end} or {@link #fail}. Written from a
 * virtual thread, a sink waits while the client's write queue is full; written from the
 * connection's event loop it cannot wait, so the writer asks {@link #writable} first.
 */
public interface ClientSink {

    /**
     * Sends status 200 and headers. Called just before the first chunk with the exchange's live
     * header map: a sink that answers only at the end (non-streaming) reads it again then.
     */
    void start(Map<String, String> headers);

    /** Sends one chunk. Returns false when the client has gone away. */
    boolean chunk(ResponseChunk chunk);

    /** Completes the response; the chunk passed last had endOfStream set. */
    void end();

    /**
     * Reports an error: as a status and JSON body when nothing was sent yet
     * ({@code started == false}), else as an error event that ends the stream.
     */
    void fail(GatewayError error, Map<String, String> headers, boolean started);

    /** True once the client disconnected. */
    boolean clientGone();

    /** Runs {@code action} (at most once) when the client disconnects; used to cancel the engine. */
    void onGone(Runnable action);

    /** False while the client's write queue is full (only asked on the connection's event loop). */
    default boolean writable() {
        return true;
    }

    /** Runs {@code action} on the connection's event loop once the write queue has drained. */
    default void whenWritable(Runnable action) {
        action.run();
    }
}
