package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineEvent.TokenLogprob;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineException.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads what an OpenAI-compatible upstream says besides text: tool calls (streamed pieces or whole
 * calls) and token log probabilities. Shared by the streamed and the one-shot reader.
 */
final class WireEvents {

    /** More parallel calls than this in one completion is not a response we can use. */
    static final int MAX_TOOL_CALLS = 128;

    private WireEvents() {}

    /**
     * Tool calls in a delta ({@code delta.tool_calls}) or a message ({@code message.tool_calls});
     * a call without an index takes its position.
     */
    static List<EngineEvent> toolCalls(JsonNode calls, String backendId) throws EngineException {
        if (calls == null || !calls.isArray() || calls.isEmpty()) {
            return List.of();
        }
        var events = new ArrayList<EngineEvent>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            JsonNode call = calls.get(i);
            int index = call.path("index").asInt(i);
            if (index < 0 || index >= MAX_TOOL_CALLS) {
                throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent tool call index " + index);
            }
            JsonNode fn = call.path("function");
            events.add(new EngineEvent.ToolCallDelta(index, text(call.get("id")), text(fn.get("name")),
                    fn.path("arguments").asText("")));
        }
        return events;
    }

    /** The log probabilities of a choice ({@code choice.logprobs.content}), if any. */
    static List<EngineEvent> logprobs(JsonNode choice) {
        JsonNode content = choice.path("logprobs").path("content");
        if (!content.isArray() || content.isEmpty()) {
            return List.of();
        }
        var tokens = new ArrayList<TokenLogprob>(content.size());
        for (JsonNode entry : content) {
            var top = new ArrayList<TokenLogprob>();
            for (JsonNode alternative : entry.path("top_logprobs")) {
                top.add(new TokenLogprob(alternative.path("token").asText(""), alternative.path("logprob").asDouble(),
                        List.of()));
            }
            tokens.add(new TokenLogprob(entry.path("token").asText(""), entry.path("logprob").asDouble(), top));
        }
        return List.of(new EngineEvent.Logprobs(tokens));
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() || !node.isTextual() || node.asText().isEmpty() ? null : node.asText();
    }
}
