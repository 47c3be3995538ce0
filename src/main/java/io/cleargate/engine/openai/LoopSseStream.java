package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineStream;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An upstream's SSE answer read on the Vert.x event loop that made the call ({@link EventLoopClient#stream}):
 * its bytes are parsed into events there as they arrive, and the consumer takes them on that loop
 * with {@link #poll}, which never blocks, or from another thread with {@link #next}, which does.
 * Limits as {@link SseEngineStream}'s: the response size cap, the longest line, the between-chunk
 * timeout (time without a byte while the consumer waits: a consumer that is slow to take events is
 * not the upstream's fault) and the total timeout, checked by the loop's sweep every
 * {@link EventLoopClient#TICK_MILLIS}. Back-pressure: while {@value #PAUSE_AT} events wait unread,
 * the upstream's response is paused (TCP carries it to the upstream); below {@value #RESUME_AT} it resumes.
 *
 * <p>Closing before the upstream ended the stream resets the request, which closes its connection:
 * that is how the upstream sees the abort. After {@code [DONE]} the rest of the body (the chunked
 * body's last, empty chunk) is left to Vert.x, so the connection goes back to the pool.
 */
final class LoopSseStream implements EngineStream, EventLoopClient.Watched {

    private static final int MAX_LINE_BYTES = 1 << 20;
    static final int PAUSE_AT = 64;
    static final int RESUME_AT = 16;

    private final CompletableFuture<EngineStream> opened;
    private final SseEngineStream.ChunkParser parser;
    private final UpstreamLimits limits;
    private final String backendId;
    private final Context loop;
    private final Thread loopThread;
    private final long firstByteDeadline;
    private final long deadline;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    /** Events and at most one failure (last), in order. Guarded by {@link #lock}. */
    private final ArrayDeque<Object> items = new ArrayDeque<>();
    /** Runs on the loop when an item arrives or the stream closes; set by a poll that found nothing. */
    private Runnable ready;

    // Written on the loop only.
    private HttpClientRequest request;
    private HttpClientResponse response;
    private long received;
    private volatile long lastActivity;
    private volatile boolean paused;
    /** The upstream ended the answer ([DONE], or the body's end after a finish reason). */
    private volatile boolean ended;
    /** A failure is queued (or the open failed): nothing more is read. */
    private volatile boolean failed;
    private volatile boolean closed;
    private boolean finished;

    LoopSseStream(CompletableFuture<EngineStream> opened, ObjectMapper json, UpstreamLimits limits, String backendId,
            int choices, Context loop) {
        this.opened = opened;
        this.parser = new SseEngineStream.ChunkParser(json, backendId, choices);
        this.limits = limits;
        this.backendId = backendId;
        this.loop = loop;
        this.loopThread = Thread.currentThread(); // made on the loop (EventLoopClient#stream)
        long now = System.nanoTime();
        this.deadline = now + limits.total().toNanos();
        this.firstByteDeadline = now + Math.min(limits.firstByte().toNanos(), limits.total().toNanos());
        this.lastActivity = now;
    }

    /** On the loop: the connection is open and the request about to be sent; false if the call is already over. */
    boolean sending(HttpClientRequest request) {
        this.request = request;
        return !failed && !closed;
    }

    /** On the loop: the response's head arrived. A 2xx opens the stream; anything else fails the call. */
    void head(HttpClientResponse response) {
        if (failed || closed) {
            response.request().reset();
            return;
        }
        int status = response.statusCode();
        if (status / 100 != 2) {
            // Read a little (never shown) so a short error body leaves its connection reusable.
            int[] seen = {0};
            response.handler(piece -> {
                seen[0] += piece.length();
                if (seen[0] > 2048) {
                    response.request().reset();
                }
            });
            response.exceptionHandler(ignored -> { });
            Kind kind = status == 429 || status >= 500 ? Kind.UNAVAILABLE : Kind.BAD_RESPONSE;
            failed = true;
            opened.completeExceptionally(new EngineException(kind, "backend " + backendId + " answered HTTP " + status));
            return;
        }
        this.response = response;
        lastActivity = System.nanoTime();
        response.handler(this::piece);
        response.exceptionHandler(e -> {
            if (!ended) {
                failAndReset(new EngineException(Kind.UNAVAILABLE, "backend " + backendId + " connection failed mid-stream"));
            }
        });
        response.endHandler(v -> {
            if (!ended && !failed) {
                // The body ended without [DONE]: fine if the upstream already said why it finished.
                parser.finishAtEof().ifPresentOrElse(this::finish, () -> queueFailure(new EngineException(
                        Kind.BAD_RESPONSE, "backend " + backendId + " ended the stream early")));
            }
        });
        opened.complete(this);
    }

    /** On the loop: a piece of the body. */
    private void piece(Buffer piece) {
        if (ended || failed || closed) {
            return; // after [DONE]: the rest of the body is only read to its end
        }
        lastActivity = System.nanoTime();
        received += piece.length();
        if (received > limits.maxResponseBytes()) {
            failAndReset(new EngineException(Kind.TOO_LARGE,
                    "backend " + backendId + " response exceeded " + limits.maxResponseBytes() + " bytes"));
            return;
        }
        int before = pending();
        try {
            int n = piece.length();
            for (int i = 0; i < n && !ended; i++) {
                byte b = piece.getByte(i);
                if (b == '\n') {
                    handleLine(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else if (line.size() < MAX_LINE_BYTES) {
                    line.write(b);
                } else {
                    failAndReset(new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent an over-long line"));
                    return;
                }
            }
        } catch (EngineException e) {
            failAndReset(e);
            return;
        }
        int after = pending();
        if (after >= PAUSE_AT && !paused && !ended) {
            paused = true;
            response.pause();
        }
        if (after > before) {
            signal();
        }
    }

    private void handleLine(String raw) throws EngineException {
        String text = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        if (!text.startsWith("data:")) {
            return; // comments, event names, blank separators
        }
        for (EngineEvent event : parser.accept(text.substring(5).strip())) {
            if (event instanceof EngineEvent.Finish) {
                finish(event);
                return;
            }
            enqueue(event);
        }
    }

    private void finish(EngineEvent finish) {
        ended = true;
        enqueue(finish);
        signal();
    }

    /** Events (and a failure) parsed and not yet taken by the consumer. */
    int pending() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    private void enqueue(Object item) {
        lock.lock();
        try {
            items.add(item);
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the consumer: a thread blocked in {@link #next}, or the poll waiting on the loop. */
    private void signal() {
        Runnable wake;
        lock.lock();
        try {
            arrived.signalAll();
            wake = ready;
            ready = null;
        } finally {
            lock.unlock();
        }
        if (wake != null) {
            if (onLoop()) {
                wake.run();
            } else {
                loop.runOnContext(v -> wake.run());
            }
        }
    }

    /** On the loop's own thread: its callbacks may run at once instead of being queued behind the current task. */
    private boolean onLoop() {
        return Thread.currentThread() == loopThread;
    }

    /** On the loop: the call failed. Before the head, the opening fails; after it, the consumer gets the error. */
    void fail(EngineException e) {
        if (!opened.isDone()) {
            failed = true;
            opened.completeExceptionally(e);
            return;
        }
        queueFailure(e);
    }

    private void queueFailure(EngineException e) {
        if (failed || ended) {
            return;
        }
        failed = true;
        enqueue(e);
        signal();
    }

    private void failAndReset(EngineException e) {
        boolean first = !failed && !ended;
        fail(e);
        if (first && request != null) {
            request.reset(); // closes the connection: nothing more of this answer may reach the next call on it
        }
    }

    @Override
    public boolean expireIfLate(long now) {
        if (ended || failed || closed) {
            return true;
        }
        String late;
        if (!opened.isDone()) {
            late = now - firstByteDeadline > 0
                    ? "no response from backend " + backendId + " within the first-byte timeout" : null;
        } else if (now - deadline > 0) {
            late = "backend " + backendId + " exceeded the total timeout";
        } else {
            late = pending() == 0 && now - lastActivity > limits.betweenChunks().toNanos()
                    ? "backend " + backendId + " sent nothing within the between-chunk timeout" : null;
        }
        if (late == null) {
            return false;
        }
        failAndReset(new EngineException(Kind.TIMEOUT, late));
        return true;
    }

    @Override
    public boolean polls() {
        return true;
    }

    @Override
    public EngineEvent poll(Runnable whenReady) throws EngineException {
        Object item;
        lock.lock();
        try {
            item = take();
            if (item == null) {
                ready = whenReady;
                return null;
            }
        } finally {
            lock.unlock();
        }
        return deliver(item);
    }

    @Override
    public EngineEvent next() throws EngineException {
        Object item;
        lock.lock();
        try {
            // The loop's sweep fails the stream at its deadlines; this bound is only a backstop.
            long backstop = Math.max(deadline, System.nanoTime()) + TimeUnit.SECONDS.toNanos(1);
            while ((item = take()) == null) {
                long wait = backstop - System.nanoTime();
                if (wait <= 0) {
                    close();
                    throw new EngineException(Kind.TIMEOUT, "backend " + backendId + " exceeded the total timeout");
                }
                arrived.awaitNanos(wait);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new EngineException(Kind.UNAVAILABLE, "interrupted");
        } finally {
            lock.unlock();
        }
        return deliver(item);
    }

    /** Under the lock: the next item, or null; a closed stream reads as failed. */
    private Object take() {
        if (finished) {
            throw new IllegalStateException("stream already finished");
        }
        Object item = items.poll();
        if (item == null && closed) {
            return new EngineException(Kind.UNAVAILABLE, "stream closed");
        }
        if (item != null && paused && items.size() < RESUME_AT) {
            lastActivity = System.nanoTime(); // the upstream could not send while paused
            if (onLoop()) {
                resume();
            } else {
                loop.runOnContext(v -> resume());
            }
        }
        return item;
    }

    private void resume() {
        if (paused && !closed && !failed) {
            paused = false;
            response.resume();
        }
    }

    private EngineEvent deliver(Object item) throws EngineException {
        if (item instanceof EngineException e) {
            finished = true;
            close();
            throw e;
        }
        EngineEvent event = (EngineEvent) item;
        if (event instanceof EngineEvent.Finish) {
            finished = true;
            close();
        }
        return event;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!ended && !failed) {
            // Aborts the upstream's generation; after [DONE] Vert.x reads the body's end and keeps the connection.
            loop.runOnContext(v -> {
                if (request != null) {
                    request.reset();
                }
            });
        }
        signal();
    }
}
