package io.cleargate.engine;

import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The engine SPI: something that turns a chat request into a stream of text. Implementations are
 * the OpenAI-compatible upstream client and the embedded DeepSeek engine. One instance serves one
 * configured {@link Backend}.
 */
public interface Engine extends AutoCloseable {

    /**
     * Starts a generation. Returns once the engine has accepted the request (for an upstream: the
     * response status is 2xx), so that failures before the first byte can be retried elsewhere.
     */
    EngineStream open(EngineRequest request) throws EngineException;

    /**
     * As {@link #open(EngineRequest)}, told whether the gateway's client streams. An upstream
     * client may use it to skip SSE framing for one-shot requests; the returned stream behaves the
     * same either way.
     */
    default EngineStream open(EngineRequest request, boolean clientStreams) throws EngineException {
        return open(request);
    }

    /**
     * Whether {@link #openWithoutBlocking} can open this request on the calling Vert.x event loop.
     * False by default: an engine that only knows how to block is opened on a virtual thread.
     */
    default boolean opensWithoutBlocking(EngineRequest request, boolean clientStreams) {
        return false;
    }

    /**
     * As {@link #open(EngineRequest, boolean)}, without blocking the calling event loop: the stage
     * completes on that event loop, with the stream or with the {@link EngineException} that
     * {@code open} would have thrown. A one-shot answer has arrived whole, so its stream's
     * {@code next()} never blocks; a streamed one's events arrive on that loop and are read there
     * with {@link EngineStream#poll} (its {@code next()} still works, blocking, off the loop).
     * Only called when {@link #opensWithoutBlocking} said yes.
     */
    default CompletionStage<EngineStream> openWithoutBlocking(EngineRequest request, boolean clientStreams) {
        throw new UnsupportedOperationException("this engine only opens blocking");
    }

    /**
     * The request fields this engine cannot honour, by their OpenAI names (for example
     * {@code tools}); empty when it can serve the request as asked. Routing never sends a request
     * to an engine that would have to ignore part of it.
     */
    default List<String> unsupported(EngineRequest request) {
        return List.of();
    }

    /** A cheap liveness probe for readiness and active health checks. */
    boolean healthy();

    @Override
    default void close() {}
}
