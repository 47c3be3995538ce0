package io.cleargate.domain;

import java.util.List;
import java.util.Objects;

/**
 * What an engine is asked to generate. Sampling options are nullable where the OpenAI API
 * lets the caller leave them out; the engine applies its own defaults then.
 *
 * @param model       the model id the backend serves (as configured, not as the caller typed it)
 * @param messages    the conversation, oldest first
 * @param maxTokens   hard cap on generated tokens (already clamped by policy)
 * @param temperature 0 means greedy
 * @param topP        nucleus sampling mass
 * @param stop        stop sequences; generation ends before any of them
 * @param seed        makes sampling deterministic when set
 * @param options     tools, structured output, log probabilities and penalties
 * @param kind        a chat completion, or embeddings of each message's content
 */
public record EngineRequest(
        String model,
        List<ChatMessage> messages,
        int maxTokens,
        Double temperature,
        Double topP,
        List<String> stop,
        Long seed,
        RequestOptions options,
        Kind kind) {

    /** What is asked of the engine. */
    public enum Kind {
        /** Generate the next assistant turn. */
        CHAT,
        /** Embed each message's content (the inputs, as user messages); the engine answers with embeddings. */
        EMBEDDINGS
    }

    public EngineRequest {
        Objects.requireNonNull(model, "model");
        messages = List.copyOf(messages);
        stop = stop == null ? List.of() : List.copyOf(stop);
        options = options == null ? RequestOptions.NONE : options;
        kind = kind == null ? Kind.CHAT : kind;
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("maxTokens must be positive, was " + maxTokens);
        }
    }

    /** A plain text generation, without tools or other options. */
    public EngineRequest(String model, List<ChatMessage> messages, int maxTokens, Double temperature, Double topP,
            List<String> stop, Long seed) {
        this(model, messages, maxTokens, temperature, topP, stop, seed, RequestOptions.NONE, Kind.CHAT);
    }

    /** A chat completion with options. */
    public EngineRequest(String model, List<ChatMessage> messages, int maxTokens, Double temperature, Double topP,
            List<String> stop, Long seed, RequestOptions options) {
        this(model, messages, maxTokens, temperature, topP, stop, seed, options, Kind.CHAT);
    }

    /** Embeddings of {@code inputs}, each a user message. */
    public static EngineRequest embeddings(String model, List<String> inputs, Integer dimensions) {
        return new EngineRequest(model, inputs.stream().map(i -> new ChatMessage(ChatMessage.Role.USER, i)).toList(),
                1, null, null, null, null, RequestOptions.NONE.withDimensions(dimensions), Kind.EMBEDDINGS);
    }

    public EngineRequest withMessages(List<ChatMessage> newMessages) {
        return new EngineRequest(model, newMessages, maxTokens, temperature, topP, stop, seed, options, kind);
    }

    public EngineRequest withMaxTokens(int newMaxTokens) {
        return new EngineRequest(model, messages, newMaxTokens, temperature, topP, stop, seed, options, kind);
    }

    public EngineRequest withModel(String newModel) {
        return new EngineRequest(newModel, messages, maxTokens, temperature, topP, stop, seed, options, kind);
    }
}
