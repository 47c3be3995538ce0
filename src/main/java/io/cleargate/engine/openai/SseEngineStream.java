package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import io.cleargate.http.Http1Client;
import io.vertx.core.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * An upstream's SSE body read on the consumer's own (virtual) thread: {@link #next} reads the socket
 * until the next event is parsed, with the connection's read deadline armed at the between-chunk or
 * total timeout, whichever comes first ({@link Http1Client#readBy}). A reader thread between the socket
 * and the consumer cost every chunk a hand-over (the socket's poller woke the reader, the reader woke
 * the consumer, and the consumer's timed wait set and cancelled a timer of the JDK's delay scheduler):
 * 17 µs at p50 and 0.6 ms at p99 per chunk on one core (bench/results/speed.md, sections 17 and 22).
 * Nothing is read ahead of the consumer, so a slow consumer (a slow client) leaves the upstream's bytes
 * in TCP's buffers, which is the back-pressure the upstream sees.
 *
 * <p>Closing the stream (from any thread: a client that went away closes it while {@code next} may be
 * blocked) closes the body, which aborts the upstream request and fails the blocked read, unless the
 * upstream has already ended it ({@code [DONE]}): then closing reads the rest of the body (the chunked
 * body's last, empty chunk) so the connection goes back to the pool. Closing instead made every
 * streamed request open a new connection to the upstream, and the new connection's set-up was most of
 * what the gateway added to a stream's first token.
 */
final class SseEngineStream implements EngineStream {

    /** A line longer than this is not an SSE event we can use. */
    private static final int MAX_LINE_BYTES = 1 << 20;
    /** After [DONE] only the end of the body should follow: more than this, or later than that, and the connection is dropped. */
    private static final int TRAILING_BYTES = 4096;
    private static final long TRAILING_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final InputStream body;
    private final UpstreamLimits limits;
    private final long deadlineNanos;
    private final String backendId;
    private final ChunkParser parser;
    /** Events parsed but not yet taken (one read can hold several). Consumer's thread only. */
    private final ArrayDeque<EngineEvent> parsed = new ArrayDeque<>(4);
    private final byte[] buffer = new byte[8192];
    /** Bytes of {@link #buffer} read but not parsed yet: from {@code position} to {@code limit}. */
    private int position;
    private int limit;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private long total;
    private volatile boolean closed;
    /** The upstream said [DONE]: the rest of the body is only its end, read when the stream is closed. */
    private volatile boolean ended;
    /** The consumer had the last event (the finish) or a failure: nothing more comes. */
    private boolean finished;

    SseEngineStream(InputStream body, ObjectMapper json, UpstreamLimits limits, long deadlineNanos, String backendId,
            int choices) {
        this.body = body;
        this.limits = limits;
        this.deadlineNanos = deadlineNanos;
        this.backendId = backendId;
        this.parser = new ChunkParser(json, backendId, choices);
    }

    @Override
    public EngineEvent next() throws EngineException {
        if (finished) {
            throw new IllegalStateException("stream already finished");
        }
        try {
            EngineEvent event = parsed.isEmpty() ? read() : parsed.poll();
            if (event instanceof EngineEvent.Finish) {
                finished = true; // the rest of the body is read when the consumer closes the stream
            }
            return event;
        } catch (EngineException e) {
            finished = true;
            close();
            throw e;
        }
    }

    /** Reads and parses until at least one event is parsed; returns the first of them. */
    private EngineEvent read() throws EngineException {
        long now = System.nanoTime();
        boolean totalFirst = deadlineNanos - now <= limits.betweenChunks().toNanos();
        long deadline = totalFirst ? deadlineNanos : now + limits.betweenChunks().toNanos();
        while (parsed.isEmpty()) {
            if (position == limit) {
                if (closed) {
                    throw new EngineException(Kind.UNAVAILABLE, "backend " + backendId + " stream closed");
                }
                int n;
                try {
                    n = Http1Client.readBy(body, buffer, 0, buffer.length, deadline);
                } catch (SocketTimeoutException e) {
                    throw new EngineException(Kind.TIMEOUT, "backend " + backendId + (totalFirst
                            ? " exceeded the total timeout" : " sent nothing within the between-chunk timeout"));
                } catch (IOException e) {
                    throw new EngineException(Kind.UNAVAILABLE, "backend " + backendId + (closed
                            ? " stream closed" : " connection failed mid-stream"));
                }
                if (n < 0) {
                    // The body ended without [DONE]: fine if the upstream already said why it finished.
                    return parser.finishAtEof().orElseThrow(() -> new EngineException(Kind.BAD_RESPONSE,
                            "backend " + backendId + " ended the stream early"));
                }
                total += n;
                if (total > limits.maxResponseBytes()) {
                    throw new EngineException(Kind.TOO_LARGE,
                            "backend " + backendId + " response exceeded " + limits.maxResponseBytes() + " bytes");
                }
                position = 0;
                limit = n;
            }
            parseBuffered();
        }
        return parsed.poll();
    }

    /** Parses the buffered bytes line by line, until they run out or the upstream's [DONE]. */
    private void parseBuffered() throws EngineException {
        while (position < limit) {
            byte b = buffer[position++];
            if (b == '\n') {
                boolean done = handleLine(line.toString(StandardCharsets.UTF_8));
                line.reset();
                if (done) {
                    position = limit; // what follows [DONE] is dropped
                    return;
                }
            } else if (line.size() < MAX_LINE_BYTES) {
                line.write(b);
            } else {
                throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent an over-long line");
            }
        }
    }

    /** Queues the line's events; returns true when the stream is over. */
    private boolean handleLine(String raw) throws EngineException {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        if (!line.startsWith("data:")) {
            return false; // comments, event names, blank separators
        }
        String data = line.substring(5).strip();
        for (EngineEvent event : parser.accept(data)) {
            parsed.add(event);
            if (event instanceof EngineEvent.Finish) {
                ended = true;
                return true;
            }
        }
        return false;
    }

    /**
     * Reads what follows [DONE] to the end of the body, within a second and a few KB, so that the
     * connection can serve the next request; otherwise the connection is closed. Normally the body's
     * last chunk came with [DONE] or right behind it.
     */
    private void readToTheEnd() {
        try {
            // Read to its end, the body gives the connection back; what follows [DONE] is dropped.
            Http1Client.readAll(body, TRAILING_BYTES, System.nanoTime() + TRAILING_NANOS);
        } catch (IOException e) {
            // the connection is closed instead of reused; the answer is complete either way
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ended) {
            // Once [DONE] is parsed the consumer reads no more, so whoever closes reads the end: the
            // consumer's thread itself, or, when an event loop closes it (a client gone), a virtual thread.
            if (Context.isOnEventLoopThread()) {
                Thread.ofVirtual().name("upstream-end-" + backendId).start(this::readToTheEnd);
            } else {
                readToTheEnd();
            }
            return;
        }
        try {
            body.close(); // a read blocked on another thread fails at once; the upstream sees the abort
        } catch (IOException ignored) {
            // closing is best effort
        }
    }

    /** Turns data payloads into engine events; keeps the finish reason and usage until [DONE]. */
    static final class ChunkParser {
        private final ObjectMapper json;
        private final String backendId;
        private String finishReason;
        private EngineEvent.Usage usage;
        private int deltas;
        private final int choices;

        ChunkParser(ObjectMapper json, String backendId) {
            this(json, backendId, 1);
        }

        /** {@code choices > 1}: events of choices 1, 2, ... come wrapped, and each choice ends with its own finish. */
        ChunkParser(ObjectMapper json, String backendId, int choices) {
            this.json = json;
            this.backendId = backendId;
            this.choices = choices;
        }

        java.util.List<EngineEvent> accept(String data) throws EngineException {
            if (data.equals("[DONE]")) {
                return java.util.List.of(finish());
            }
            JsonNode node;
            try {
                node = json.readTree(data);
            } catch (IOException e) {
                throw new EngineException(Kind.BAD_RESPONSE, "upstream sent an unparseable event");
            }
            if (node.has("error")) {
                throw new EngineException(Kind.BAD_RESPONSE, "upstream reported an error mid-stream");
            }
            var events = new java.util.ArrayList<EngineEvent>(1);
            for (JsonNode choice : node.path("choices")) {
                int index = choices > 1 ? choice.path("index").asInt(0) : 0;
                if (index < 0 || index >= choices) {
                    if (choices > 1) {
                        throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent choice index " + index);
                    }
                    continue;
                }
                if (choices == 1 && choice.path("index").asInt(0) != 0) {
                    continue; // one choice asked for: anything more is not ours to pass on
                }
                var of = new java.util.ArrayList<EngineEvent>(2);
                String content = choice.path("delta").path("content").asText("");
                if (!content.isEmpty()) {
                    deltas++;
                    of.add(new EngineEvent.Delta(content));
                }
                var calls = WireEvents.toolCalls(choice.path("delta").get("tool_calls"), backendId);
                deltas += calls.size();
                of.addAll(calls);
                of.addAll(WireEvents.logprobs(choice));
                for (EngineEvent e : of) {
                    events.add(index == 0 ? e : new EngineEvent.OfChoice(index, e));
                }
                if (choice.hasNonNull("finish_reason")) {
                    String reason = choice.get("finish_reason").asText();
                    if (index == 0) {
                        finishReason = reason;
                    }
                    if (choices > 1) {
                        events.add(new EngineEvent.ChoiceFinish(index, reason));
                    }
                }
            }
            JsonNode u = node.get("usage");
            if (u != null && u.isObject()) {
                usage = new EngineEvent.Usage(u.path("prompt_tokens").asInt(-1), u.path("completion_tokens").asInt(0));
            }
            return events;
        }

        java.util.Optional<EngineEvent> finishAtEof() {
            return finishReason == null ? java.util.Optional.empty() : java.util.Optional.of(finish());
        }

        private EngineEvent.Finish finish() {
            var u = usage != null ? usage : new EngineEvent.Usage(-1, deltas);
            return new EngineEvent.Finish(finishReason == null ? "stop" : finishReason, u);
        }
    }
}
