package io.cleargate.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Writes to a Vert.x response from a request's virtual thread, waiting for the write queue to
 * drain so a slow client slows the engine instead of filling memory.
 */
final class HttpResponder {

    private static final long DRAIN_WAIT_SECONDS = 60;
    private static final byte[] DATA = "data: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final HttpServerResponse response;
    private final ObjectMapper json;

    HttpResponder(HttpServerResponse response, ObjectMapper json) {
        this.response = response;
        this.json = json;
    }

    HttpServerResponse response() {
        return response;
    }

    boolean closed() {
        return response.closed() || response.ended();
    }

    void headers(Map<String, String> headers) {
        headers.forEach((name, value) -> response.putHeader(name, value));
    }

    /** Sends a complete JSON response. */
    void json(int status, Object body, Map<String, String> headers) {
        if (response.headWritten()) {
            return;
        }
        response.setStatusCode(status);
        headers(headers);
        response.putHeader("content-type", "application/json");
        response.end(Buffer.buffer(bytes(body)));
    }

    void error(GatewayError error, Map<String, String> headers) {
        var merged = new java.util.LinkedHashMap<>(headers);
        merged.putAll(error.headers());
        json(error.status(), error.toBody(), merged);
    }

    /** Writes a piece of a streamed body; false when the client has gone. */
    boolean write(String text) {
        return write(Buffer.buffer(text));
    }

    /**
     * Writes one server-sent event whose data is {@code json} (UTF-8, one line); false when the
     * client has gone. The bytes go into the frame as they are: no string in between.
     */
    boolean event(byte[] json) {
        return write(Buffer.buffer(json.length + 8).appendBytes(DATA).appendBytes(json).appendBytes(END));
    }

    private boolean write(Buffer buffer) {
        if (closed()) {
            return false;
        }
        response.write(buffer);
        if (response.writeQueueFull()) {
            // Only the drain handler is ours to set: the close handler belongs to the sink, which
            // cancels the engine when the client goes. A closed response is seen by polling.
            var drained = new CompletableFuture<Void>();
            response.drainHandler(v -> drained.complete(null));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_WAIT_SECONDS);
            while (response.writeQueueFull() && !closed()) {
                if (System.nanoTime() > deadline) {
                    response.reset();
                    return false;
                }
                try {
                    drained.get(100, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    // look at the connection again
                } catch (Exception e) {
                    response.reset();
                    return false;
                }
            }
        }
        return !closed();
    }

    void end() {
        if (!response.ended()) {
            response.end();
        }
    }

    byte[] bytes(Object body) {
        try {
            return json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("response not serialisable", e);
        }
    }
}
