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
 */
public record EngineRequest(
        String model,
        List<ChatMessage> messages,
        int maxTokens,
        Double temperature,
        Double topP,
        List<String> stop,
        Long seed) {

    public EngineRequest {
        Objects.requireNonNull(model, "model");
        messages = List.copyOf(messages);
        stop = stop == null ? List.of() : List.copyOf(stop);
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("maxTokens must be positive, was " + maxTokens);
        }
    }
}
