package io.cleargate.pipeline;

import io.cleargate.domain.EngineEvent.Usage;
import java.util.Map;

/**
 * A piece of the response as it flows back through the response stages. The last chunk of every
 * response has {@code endOfStream} set and carries the finish reason and usage.
 *
 * @param text         generated text in this chunk (possibly empty)
 * @param finishReason set on the last chunk: stop, length, content_filter or error
 * @param usage        set on the last chunk when known
 * @param extensions   extra members for the final chunk / body (for example the moderation summary)
 * @param endOfStream  true on the last chunk only
 */
public record ResponseChunk(String text, String finishReason, Usage usage, Map<String, Object> extensions,
        boolean endOfStream) {

    public ResponseChunk {
        text = text == null ? "" : text;
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    public static ResponseChunk text(String text) {
        return new ResponseChunk(text, null, null, null, false);
    }

    public static ResponseChunk end(String finishReason, Usage usage) {
        return new ResponseChunk("", finishReason, usage, null, true);
    }

    public ResponseChunk withText(String newText) {
        return new ResponseChunk(newText, finishReason, usage, extensions, endOfStream);
    }

    public ResponseChunk withExtension(String name, Object value) {
        var merged = new java.util.LinkedHashMap<>(extensions);
        merged.put(name, value);
        return new ResponseChunk(text, finishReason, usage, merged, endOfStream);
    }

    public ResponseChunk withFinishReason(String reason) {
        return new ResponseChunk(text, reason, usage, extensions, endOfStream);
    }
}
