package io.cleargate.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The OpenAI options beyond plain sampling: tools, structured output, log probabilities, several
 * choices, repetition penalties and logit biases. Null members were not given. An engine that cannot honour a
 * member that is set refuses the request, naming it ({@link #requested()}); nothing is ignored.
 *
 * @param tools             functions offered to the model; empty when none
 * @param toolChoice        how the model may use them; null when not given
 * @param parallelToolCalls whether several calls may come in one turn
 * @param responseFormat    json_object or json_schema; null for plain text
 * @param logprobs          whether to return token log probabilities
 * @param topLogprobs       alternatives per token (needs logprobs)
 * @param n                 completions to generate (null or 1 for one)
 * @param presencePenalty   -2..2
 * @param frequencyPenalty  -2..2
 * @param dimensions        for embeddings: the size of the vectors, when the model can shorten them
 * @param logitBias         token id to a bias of -100..100 added to its logit; empty when none
 */
public record RequestOptions(
        List<ToolDefinition> tools,
        ToolChoice toolChoice,
        Boolean parallelToolCalls,
        ResponseFormat responseFormat,
        Boolean logprobs,
        Integer topLogprobs,
        Integer n,
        Double presencePenalty,
        Double frequencyPenalty,
        Integer dimensions,
        Map<Integer, Double> logitBias) {

    public static final RequestOptions NONE = new RequestOptions(List.of(), null, null, null, null, null, null, null, null,
            null, Map.of());

    public RequestOptions withDimensions(Integer newDimensions) {
        return new RequestOptions(tools, toolChoice, parallelToolCalls, responseFormat, logprobs, topLogprobs, n,
                presencePenalty, frequencyPenalty, newDimensions, logitBias);
    }

    public RequestOptions {
        tools = tools == null ? List.of() : List.copyOf(tools);
        // Kept in the client's order (a TreeMap view would do too): the upstream sees what was sent.
        logitBias = logitBias == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(logitBias));
    }

    /**
     * How the model may use the tools.
     *
     * @param mode     none, auto, required, or function (then {@code function} names it)
     * @param function the function the model must call when mode is function
     */
    public record ToolChoice(String mode, String function) {}

    /**
     * Structured output.
     *
     * @param type   json_object or json_schema
     * @param name   the schema's name (json_schema only)
     * @param description what the schema is for; may be null
     * @param schema the JSON schema as plain maps and lists (json_schema only)
     * @param strict whether the upstream must follow the schema exactly; null when not given
     */
    public record ResponseFormat(String type, String name, String description, Map<String, Object> schema,
            Boolean strict) {}

    /** The request fields that ask for something beyond plain text generation, by their OpenAI names. */
    public List<String> requested() {
        var names = new ArrayList<String>();
        if (!tools.isEmpty()) {
            names.add("tools");
        }
        if (responseFormat != null) {
            names.add("response_format");
        }
        if (Boolean.TRUE.equals(logprobs)) {
            names.add("logprobs");
        }
        if (n != null && n > 1) {
            names.add("n");
        }
        if (presencePenalty != null && presencePenalty != 0.0) {
            names.add("presence_penalty");
        }
        if (frequencyPenalty != null && frequencyPenalty != 0.0) {
            names.add("frequency_penalty");
        }
        if (dimensions != null) {
            names.add("dimensions");
        }
        if (!logitBias.isEmpty()) {
            names.add("logit_bias");
        }
        return names;
    }
}
