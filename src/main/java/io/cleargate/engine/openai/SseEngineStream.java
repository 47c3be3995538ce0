package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads an upstream's SSE body on a virtual thread and hands parsed events to the consumer
 * through a small queue, so the consumer can enforce the between-chunk and total timeouts with a
 * timed poll. Closing the stream closes the body, which aborts the upstream request, unless the
 * upstream has already ended it ({@code [DONE]}): then the reader reads the rest of the body (the
 * chunked body's last, empty chunk) so the connection goes back to the pool. Closing it instead
 * made every streamed request open a new connection to the upstream, and the new connection's
 * set-up was most of what the gateway added to a stream's first token.
 */
final class SseEngineStream implements EngineStream {

    /** A line longer than this is not an SSE event we can use. */
    private static final int MAX_LINE_BYTES = 1 << 20;
    /** After [DONE] only the end of the body should follow: more than this, or later than that, and the connection is dropped. */
    private static final int TRAILING_BYTES = 4096;
    private static final long TRAILING_NANOS = TimeUnit.SECONDS.toNanos(1);

    private sealed interface Item {}
    private record Event(EngineEvent event) implements Item {}
    private record Failure(EngineException error) implements Item {}

    private final InputStream body;
    private final ObjectMapper json;
    private final UpstreamLimits limits;
    private final long deadlineNanos;
    private final String backendId;
    private final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(64);
    private final int choices;
    private final Thread reader;
    private volatile boolean closed;
    /** The upstream said [DONE]: the reader owns the rest of the body and gives the connection back. */
    private volatile boolean ended;
    private boolean finished;

    SseEngineStream(InputStream body, ObjectMapper json, UpstreamLimits limits, long deadlineNanos, String backendId,
            int choices) {
        this.choices = choices;
        this.body = body;
        this.json = json;
        this.limits = limits;
        this.deadlineNanos = deadlineNanos;
        this.backendId = backendId;
        this.reader = Thread.ofVirtual().name("upstream-" + backendId).start(this::readAll);
    }

    @Override
    public EngineEvent next() throws EngineException {
        if (finished) {
            throw new IllegalStateException("stream already finished");
        }
        long remaining = deadlineNanos - System.nanoTime();
        long wait = Math.min(remaining, limits.betweenChunks().toNanos());
        Item item;
        try {
            item = wait <= 0 ? null : queue.poll(wait, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new EngineException(Kind.UNAVAILABLE, "interrupted");
        }
        if (item == null) {
            close();
            boolean total = deadlineNanos - System.nanoTime() <= 0;
            throw new EngineException(Kind.TIMEOUT, "backend " + backendId + (total
                    ? " exceeded the total timeout" : " sent nothing within the between-chunk timeout"));
        }
        return switch (item) {
            case Event(EngineEvent event) -> {
                if (event instanceof EngineEvent.Finish) {
                    finished = true;
                    close(); // leaves the body to the reader, which has it read to its end
                }
                yield event;
            }
            case Failure(EngineException error) -> {
                finished = true;
                close();
                throw error;
            }
        };
    }

    private void readAll() {
        var parser = new ChunkParser(json, backendId, choices);
        long total = 0;
        var line = new ByteArrayOutputStream();
        try (body) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = body.read(buffer)) >= 0) {
                total += n;
                if (total > limits.maxResponseBytes()) {
                    put(new Failure(new EngineException(Kind.TOO_LARGE,
                            "backend " + backendId + " response exceeded " + limits.maxResponseBytes() + " bytes")));
                    return;
                }
                for (int i = 0; i < n; i++) {
                    byte b = buffer[i];
                    if (b == '\n') {
                        if (handleLine(parser, line.toString(StandardCharsets.UTF_8))) {
                            readToTheEnd();
                            return;
                        }
                        line.reset();
                    } else if (line.size() < MAX_LINE_BYTES) {
                        line.write(b);
                    } else {
                        put(new Failure(new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent an over-long line")));
                        return;
                    }
                }
            }
            // The body ended without [DONE]: fine if the upstream already said why it finished.
            put(parser.finishAtEof()
                    .<Item>map(Event::new)
                    .orElseGet(() -> new Failure(new EngineException(Kind.BAD_RESPONSE,
                            "backend " + backendId + " ended the stream early"))));
        } catch (IOException e) {
            if (!closed) {
                put(new Failure(new EngineException(Kind.UNAVAILABLE, "backend " + backendId + " connection failed mid-stream")));
            }
        } catch (EngineException e) {
            put(new Failure(e));
        }
    }

    /** Returns true when the stream is over. */
    private boolean handleLine(ChunkParser parser, String raw) throws EngineException {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        if (!line.startsWith("data:")) {
            return false; // comments, event names, blank separators
        }
        String data = line.substring(5).strip();
        for (EngineEvent event : parser.accept(data)) {
            if (event instanceof EngineEvent.Finish) {
                ended = true; // before the consumer can see it and close the stream
                put(new Event(event));
                return true;
            }
            put(new Event(event));
        }
        return false;
    }

    /**
     * Reads what follows [DONE] to the end of the body, within a second and a few KB, so that the
     * connection can serve the next request; otherwise the connection is closed.
     */
    private void readToTheEnd() {
        try {
            Http1Client.readRest(body, TRAILING_BYTES, System.nanoTime() + TRAILING_NANOS);
        } catch (IOException e) {
            // the connection is closed instead of reused; the answer is complete either way
        }
    }

    private void put(Item item) {
        try {
            while (!closed && !queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                // consumer is slow: wait (back-pressure reaches the upstream through TCP)
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ended) {
            return; // nothing to abort: the reader reads the end of the body and hands the connection back
        }
        try {
            body.close();
        } catch (IOException ignored) {
            // closing is best effort; the reader thread ends either way
        }
        reader.interrupt();
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
