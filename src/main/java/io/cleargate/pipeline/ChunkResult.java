package io.cleargate.pipeline;

import java.util.List;
import java.util.Objects;

/**
 * What a response stage makes of one chunk. A stage may hold text back (emit nothing now),
 * release several chunks at once, or end the response early by emitting a chunk with
 * {@code endOfStream} set (the engine is then cancelled). {@link Fail} ends the response with an
 * error, for example when the audit record cannot be committed. {@link Retry} asks for the answer
 * to be generated again on another backend of the route plan.
 */
public sealed interface ChunkResult {

    record Emit(List<ResponseChunk> chunks) implements ChunkResult {
        public Emit {
            chunks = List.copyOf(chunks);
        }
    }

    record Fail(GatewayError error) implements ChunkResult {
        public Fail {
            Objects.requireNonNull(error, "error");
        }
    }

    /**
     * Discard this answer and generate it again on another backend the route plan allows (a tenant
     * whose policy retries the model's own refusals). Only honoured while nothing has reached the
     * client and at most once per request; the dispatcher picks the backend. When no other backend
     * can answer, {@code fallback} goes on instead, exactly as if the stage had emitted it, so the
     * stage must hold everything it was given until it decides. Only the stage next to the engine
     * may ask: stages before it have not seen the discarded answer.
     */
    record Retry(List<ResponseChunk> fallback) implements ChunkResult {
        public Retry {
            fallback = List.copyOf(fallback);
        }
    }

    static ChunkResult retry(List<ResponseChunk> fallback) {
        return new Retry(fallback);
    }

    static ChunkResult pass(ResponseChunk chunk) {
        return new Emit(List.of(chunk));
    }

    static ChunkResult emit(List<ResponseChunk> chunks) {
        return new Emit(chunks);
    }

    static ChunkResult hold() {
        return new Emit(List.of());
    }

    static ChunkResult fail(GatewayError error) {
        return new Fail(error);
    }
}
