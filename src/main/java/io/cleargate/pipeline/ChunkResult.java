package io.cleargate.pipeline;

import java.util.List;
import java.util.Objects;

/**
 * What a response stage makes of one chunk. A stage may hold text back (emit nothing now),
 * release several chunks at once, or end the response early by emitting a chunk with
 * {@code endOfStream} set (the engine is then cancelled). {@link Fail} ends the response with an
 * error, for example when the audit record cannot be committed.
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
