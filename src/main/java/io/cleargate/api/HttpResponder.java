package io.cleargate.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Writes to a Vert.x response from a request's virtual thread, waiting for the write queue to
 * drain so a slow client slows the engine instead of filling memory; or from the connection's
 * event loop, where the writer waits by asking {@link #writable} and {@link #whenWritable}.
 */
final class HttpResponder {

    private static final Logger LOG = Logger.getLogger(HttpResponder.class);
    private static final long DRAIN_WAIT_SECONDS = 60;
    private static final byte[] DATA = "data: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final HttpServerResponse response;
    private final ObjectMapper json;
    private final Context eventLoop;
    /** The end of a streamed response was handed to the event loop: nothing may be written after it. */
    private volatile boolean endHandedOver;

    /**
     * @param eventLoop the Vert.x context of the request's connection: complete JSON answers are
     *     handed to it whole (null: written from the calling thread)
     */
    HttpResponder(HttpServerResponse response, ObjectMapper json, Context eventLoop) {
        this.response = response;
        this.json = json;
        this.eventLoop = eventLoop;
    }

    HttpServerResponse response() {
        return response;
    }

    /** The connection closed, or the response ended (or its end was handed to the loop). */
    boolean closed() {
        return endHandedOver || response.closed() || response.ended();
    }

    void headers(Map<String, String> headers) {
        headers.forEach((name, value) -> response.putHeader(name, value));
    }

    /**
     * Sends a complete JSON response. The body is serialised on the calling thread; status, headers
     * and body then go to the connection's event loop as one task. Written from the request's
     * virtual thread, Vert.x would hand the write to the event loop anyway, while the request
     * thread still held the connection's lock: on one core the woken event loop preempted it,
     * blocked on that lock and had to be woken once more, for every request.
     */
    void json(int status, Object body, Map<String, String> headers) {
        // The serialised array is the buffer's memory: Buffer.buffer(byte[]) would copy it once more.
        Buffer bytes = Buffer.buffer(Unpooled.wrappedBuffer(bytes(body)));
        if (eventLoop == null || Context.isOnEventLoopThread()) {
            end(status, headers, bytes);
            return;
        }
        eventLoop.runOnContext(v -> {
            try {
                end(status, headers, bytes);
            } catch (RuntimeException e) {
                LOG.debugf("response not written: %s", e.getMessage()); // the client has gone
            }
        });
    }

    private void end(int status, Map<String, String> headers, Buffer bytes) {
        if (response.headWritten()) {
            return;
        }
        response.setStatusCode(status);
        headers(headers);
        response.putHeader("content-type", "application/json");
        response.end(bytes);
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

    /** As {@link #event(byte[])}, the data being {@code parts} one after another. */
    boolean event(byte[]... parts) {
        int length = 8;
        for (byte[] part : parts) {
            length += part.length;
        }
        Buffer frame = Buffer.buffer(length).appendBytes(DATA);
        for (byte[] part : parts) {
            frame.appendBytes(part);
        }
        return write(frame.appendBytes(END));
    }

    /** False while the response's write queue is full (and it is still open). */
    boolean writable() {
        return closed() || !response.writeQueueFull();
    }

    /** Runs {@code action} on the connection's event loop once the write queue has drained, or the connection closed. */
    void whenWritable(Runnable action) {
        response.drainHandler(v -> action.run());
    }

    private boolean write(Buffer buffer) {
        if (closed()) {
            return false;
        }
        if (offLoop()) {
            eventLoop.runOnContext(v -> writeOnLoop(buffer));
        } else {
            response.write(buffer);
        }
        if (response.writeQueueFull() && !Context.isOnEventLoopThread()) {
            // On the event loop nothing can wait: the writer there asks writable() before each chunk.
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

    /**
     * True when called off the connection's event loop (a request's virtual thread): a write is then
     * handed to the loop as a task of its own, as {@link #json} hands a whole answer. Written from
     * the virtual thread, Vert.x would take the connection's lock and hand the bytes to the loop
     * while holding it; on one core the woken loop can preempt the writer, find the lock held and
     * sleep until the writer runs again: two more context switches for every chunk of a stream.
     * Tasks run in the order they are handed over, so the frames, the stream's end and an error
     * event keep their order.
     */
    private boolean offLoop() {
        return eventLoop != null && !Context.isOnEventLoopThread();
    }

    private void writeOnLoop(Buffer buffer) {
        if (response.closed() || response.ended()) {
            return; // the client has gone; the writer sees it on its next write
        }
        try {
            response.write(buffer);
        } catch (RuntimeException e) {
            LOG.debugf("stream write not sent: %s", e.getMessage()); // the connection closed under it
        }
    }

    void end() {
        if (offLoop()) {
            if (!endHandedOver) {
                endHandedOver = true;
                eventLoop.runOnContext(v -> {
                    try {
                        if (!response.ended()) {
                            response.end();
                        }
                    } catch (RuntimeException e) {
                        LOG.debugf("stream end not sent: %s", e.getMessage());
                    }
                });
            }
            return;
        }
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
