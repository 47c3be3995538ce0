package io.cleargate.pipeline;

import io.cleargate.domain.EngineEvent.Embedding;
import io.cleargate.domain.EngineEvent.TokenLogprob;
import io.cleargate.domain.EngineEvent.ToolCallDelta;
import io.cleargate.domain.EngineEvent.Usage;
import java.util.List;
import java.util.Map;

/**
 * A piece of the response as it flows back through the response stages. The last chunk of every
 * response has {@code endOfStream} set and carries the finish reason and usage.
 *
 * @param text         generated text in this chunk (possibly empty)
 * @param toolCalls    pieces of tool calls in this chunk (possibly empty)
 * @param logprobs     log probabilities of text released so far (possibly empty)
 * @param embeddings   embeddings, for an embeddings request (possibly empty)
 * @param finishReason set on the last chunk: stop, length, tool_calls, content_filter or error
 * @param usage        set on the last chunk when known
 * @param extensions   extra members for the final chunk / body (for example the moderation summary)
 * @param endOfStream  true on the last chunk only
 * @param choice       which choice the chunk belongs to (0 unless the request asked for several,
 *                     n > 1); a chunk of a choice that carries a finish reason without ending the
 *                     stream ends that choice ({@link #endsChoice()})
 */
public record ResponseChunk(String text, List<ToolCallDelta> toolCalls, List<TokenLogprob> logprobs,
        List<Embedding> embeddings, String finishReason, Usage usage, Map<String, Object> extensions, boolean endOfStream,
        int choice) {

    public ResponseChunk {
        text = text == null ? "" : text;
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        logprobs = logprobs == null ? List.of() : List.copyOf(logprobs);
        embeddings = embeddings == null ? List.of() : List.copyOf(embeddings);
        extensions = extensions == null ? Map.of() : Map.copyOf(extensions);
    }

    /** A chunk of choice 0. */
    public ResponseChunk(String text, List<ToolCallDelta> toolCalls, List<TokenLogprob> logprobs,
            List<Embedding> embeddings, String finishReason, Usage usage, Map<String, Object> extensions,
            boolean endOfStream) {
        this(text, toolCalls, logprobs, embeddings, finishReason, usage, extensions, endOfStream, 0);
    }

    public ResponseChunk(String text, String finishReason, Usage usage, Map<String, Object> extensions,
            boolean endOfStream) {
        this(text, List.of(), List.of(), List.of(), finishReason, usage, extensions, endOfStream);
    }

    public static ResponseChunk text(String text) {
        return new ResponseChunk(text, null, null, null, false);
    }

    public static ResponseChunk toolCall(ToolCallDelta delta) {
        return new ResponseChunk("", List.of(delta), List.of(), List.of(), null, null, null, false);
    }

    public static ResponseChunk logprobs(List<TokenLogprob> tokens) {
        return new ResponseChunk("", List.of(), tokens, List.of(), null, null, null, false);
    }

    public static ResponseChunk embedding(Embedding embedding) {
        return new ResponseChunk("", List.of(), List.of(), List.of(embedding), null, null, null, false);
    }

    public static ResponseChunk end(String finishReason, Usage usage) {
        return new ResponseChunk("", finishReason, usage, null, true);
    }

    /** The end of one choice of several (n > 1): its finish reason, nothing else. */
    public static ResponseChunk choiceEnd(int choice, String finishReason) {
        return new ResponseChunk("", List.of(), List.of(), List.of(), finishReason, null, null, false, choice);
    }

    /** True for the chunk that ends one choice of several without ending the stream. */
    public boolean endsChoice() {
        return finishReason != null && !endOfStream;
    }

    public ResponseChunk withChoice(int newChoice) {
        return new ResponseChunk(text, toolCalls, logprobs, embeddings, finishReason, usage, extensions, endOfStream,
                newChoice);
    }

    /** True when the chunk carries nothing for the client but (perhaps) the end of the stream. */
    public boolean isEmpty() {
        return text.isEmpty() && toolCalls.isEmpty() && logprobs.isEmpty() && embeddings.isEmpty();
    }

    public ResponseChunk withText(String newText) {
        return new ResponseChunk(newText, toolCalls, logprobs, embeddings, finishReason, usage, extensions, endOfStream,
                choice);
    }

    public ResponseChunk withToolCalls(List<ToolCallDelta> newToolCalls) {
        return new ResponseChunk(text, newToolCalls, logprobs, embeddings, finishReason, usage, extensions, endOfStream,
                choice);
    }

    public ResponseChunk withLogprobs(List<TokenLogprob> newLogprobs) {
        return new ResponseChunk(text, toolCalls, newLogprobs, embeddings, finishReason, usage, extensions, endOfStream,
                choice);
    }

    public ResponseChunk withEmbeddings(List<Embedding> newEmbeddings) {
        return new ResponseChunk(text, toolCalls, logprobs, newEmbeddings, finishReason, usage, extensions, endOfStream,
                choice);
    }

    public ResponseChunk withExtension(String name, Object value) {
        var merged = new java.util.LinkedHashMap<>(extensions);
        merged.put(name, value);
        return new ResponseChunk(text, toolCalls, logprobs, embeddings, finishReason, usage, merged, endOfStream, choice);
    }

    public ResponseChunk withFinishReason(String reason) {
        return new ResponseChunk(text, toolCalls, logprobs, embeddings, reason, usage, extensions, endOfStream, choice);
    }
}
