package io.cleargate.pipeline;

import io.cleargate.domain.EngineStream;

/**
 * The terminal of the pipeline: opens a generation on a backend for the exchange's engine request.
 * Implementations choose the backend from what the routing stage recorded and may retry another
 * allowed backend, but only before anything has reached the client.
 */
public interface Dispatcher {

    /** Opens the stream or throws {@link GatewayException} with the error the client should see. */
    EngineStream open(Exchange exchange);

    /**
     * Opens the stream again on an eligible backend other than those that already answered this
     * exchange (a {@link ChunkResult.Retry}); empty when there is none or none could open. Never
     * leaves what the routing stage planned.
     */
    default java.util.Optional<EngineStream> openAnother(Exchange exchange) {
        return java.util.Optional.empty();
    }

    /**
     * As {@link #open}, from the event loop of the request's connection and without blocking it:
     * completes on that event loop with the stream (a one-shot answer's {@code next()} never blocks;
     * a streamed answer is {@linkplain EngineStream#poll polled} there) or with the
     * {@link GatewayException} {@code open} would have thrown. Null, having done nothing, when
     * some backend the exchange could be served by only opens blocking.
     */
    default java.util.concurrent.CompletionStage<EngineStream> openWithoutBlocking(Exchange exchange) {
        return null;
    }

    /**
     * Whether {@link #openWithoutBlocking} would open this exchange (every backend it could be
     * served by opens without blocking); callable from any thread.
     */
    default boolean opensWithoutBlocking(Exchange exchange) {
        return false;
    }
}
