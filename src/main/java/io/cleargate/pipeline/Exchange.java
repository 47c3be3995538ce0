package io.cleargate.pipeline;

import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.Route;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One request's journey through the pipeline: what came in, what the stages decided, and how it
 * ended. Stages record their decisions as typed attributes (a stage package declares its own
 * {@link Key}s), so later stages and audit can read them without the pipeline knowing their types.
 * An exchange is used by one thread at a time.
 */
public final class Exchange {

    /** A typed attribute name. Declare keys as constants in the package that owns the value. */
    public record Key<T>(String name, Class<T> type) {
        public static <T> Key<T> of(String name, Class<T> type) {
            return new Key<>(name, type);
        }
    }

    /** Token usage as the engine reported it on the final chunk; set by the pipeline. */
    public static final Key<EngineEvent.Usage> USAGE = Key.of("usage", EngineEvent.Usage.class);

    /**
     * Token usage of an answer discarded for a retry ({@link ChunkResult.Retry}), set by the stage
     * that asked: the tenant still pays for it.
     */
    public static final Key<EngineEvent.Usage> DISCARDED_USAGE = Key.of("discarded-usage", EngineEvent.Usage.class);

    /** Where the request was served; set by the dispatcher once a backend has answered. */
    public static final Key<Route> ROUTE = Key.of("route", Route.class);

    /** How the request ended; set by the pipeline before the completion phase. */
    public record Outcome(int status, GatewayError error, String finishReason, boolean complete,
            String stoppedBy) {
        /** True when the client got (the start of) a successful response. */
        public boolean served() {
            return error == null || (status >= 200 && status < 300);
        }
    }

    private final String requestId;
    private final Instant receivedAt;
    private final long startNanos;
    private final IncomingRequest incoming;
    private final EngineRequest sentRequest;
    private EngineRequest engineRequest;
    /** Sized for the dozen-odd attributes a governed request gathers, so that the table is not grown midway. */
    private final Map<Key<?>, Object> attributes = new ConcurrentHashMap<>(16);
    private final Map<String, String> responseHeaders = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile Outcome outcome;
    private volatile long firstByteNanos = -1;
    private final java.util.concurrent.atomic.AtomicLong engineOutputChars = new java.util.concurrent.atomic.AtomicLong();

    public Exchange(String requestId, IncomingRequest incoming, EngineRequest engineRequest) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        this.incoming = Objects.requireNonNull(incoming, "incoming");
        this.sentRequest = Objects.requireNonNull(engineRequest, "engineRequest");
        this.engineRequest = engineRequest;
        this.receivedAt = Instant.now();
        this.startNanos = System.nanoTime();
    }

    public String requestId() {
        return requestId;
    }

    public Instant receivedAt() {
        return receivedAt;
    }

    public IncomingRequest incoming() {
        return incoming;
    }

    /** The request exactly as the client sent it, before any stage rewrote it (the audit's raw text). */
    public EngineRequest sentRequest() {
        return sentRequest;
    }

    /** The request the engine will receive, as rewritten so far by the stages. */
    public EngineRequest engineRequest() {
        return engineRequest;
    }

    void engineRequest(EngineRequest rewritten) {
        this.engineRequest = rewritten;
    }

    public <T> Optional<T> get(Key<T> key) {
        return Optional.ofNullable(key.type().cast(attributes.get(key)));
    }

    public <T> T require(Key<T> key) {
        return get(key).orElseThrow(() -> new IllegalStateException("exchange has no " + key.name()));
    }

    public <T> void put(Key<T> key, T value) {
        attributes.put(key, key.type().cast(Objects.requireNonNull(value, key.name())));
    }

    /** Forgets an attribute (a stage whose decision no longer holds, e.g. about an answer that was discarded). */
    public <T> void remove(Key<T> key) {
        attributes.remove(key);
    }

    /** Headers added to the response (for example x-cleargate-region); sent with the first byte. */
    public Map<String, String> responseHeaders() {
        return responseHeaders;
    }

    public Outcome outcome() {
        return outcome;
    }

    void outcome(Outcome outcome) {
        this.outcome = outcome;
    }

    /**
     * Characters of text and tool-call arguments the engine produced, before any response stage
     * changed or held them: what an answer that ended without the engine's usage is charged on.
     */
    public long engineOutputChars() {
        return engineOutputChars.get();
    }

    void countEngineOutput(EngineEvent event) {
        switch (event) {
            case EngineEvent.Delta(String text) -> engineOutputChars.addAndGet(text == null ? 0 : text.length());
            case EngineEvent.ToolCallDelta delta -> engineOutputChars.addAndGet(
                    delta.arguments().length() + (delta.name() == null ? 0 : delta.name().length()));
            case EngineEvent.OfChoice(int index, EngineEvent inner) -> countEngineOutput(inner);
            default -> { }
        }
    }

    void markFirstByte() {
        if (firstByteNanos < 0) {
            firstByteNanos = System.nanoTime();
        }
    }

    /** Milliseconds from arrival to the first byte of a successful response, or -1. */
    public long timeToFirstByteMillis() {
        return firstByteNanos < 0 ? -1 : (firstByteNanos - startNanos) / 1_000_000;
    }

    public long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
