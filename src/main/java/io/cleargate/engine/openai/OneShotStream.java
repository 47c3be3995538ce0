package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** A non-streamed upstream completion presented as a stream (its text, calls and log probabilities, then finish). */
final class OneShotStream implements EngineStream {

    private final Deque<EngineEvent> events;

    private OneShotStream(Deque<EngineEvent> events) {
        this.events = events;
    }

    /**
     * A chat completion. For several choices ({@code choices > 1}) every choice's events follow one
     * another, those of choices 1, 2, ... wrapped in {@link EngineEvent.OfChoice}, each ending with a
     * {@link EngineEvent.ChoiceFinish}; a choice index outside {@code [0, choices)} is refused.
     */
    static OneShotStream read(byte[] bytes, ObjectMapper json, String backendId, int choices) throws EngineException {
        JsonNode node;
        try {
            node = json.readTree(bytes);
        } catch (IOException e) {
            throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent an unparseable body");
        }
        JsonNode first = node.path("choices").path(0);
        if (first.isMissingNode()) {
            throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent no choices");
        }
        var events = new ArrayDeque<EngineEvent>(4);
        String firstReason = first.path("finish_reason").asText("stop");
        int position = 0;
        for (JsonNode choice : node.path("choices")) {
            int index = choices > 1 ? choice.path("index").asInt(position) : 0;
            position++;
            if (index < 0 || index >= choices) {
                throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent choice index " + index);
            }
            JsonNode message = choice.path("message");
            String content = message.path("content").isTextual() ? message.get("content").asText() : "";
            List<EngineEvent> of = new ArrayList<>();
            if (!content.isEmpty()) {
                of.add(new EngineEvent.Delta(content));
            }
            of.addAll(WireEvents.logprobs(choice));
            of.addAll(WireEvents.toolCalls(message.get("tool_calls"), backendId));
            for (EngineEvent e : of) {
                events.add(index == 0 ? e : new EngineEvent.OfChoice(index, e));
            }
            if (index == 0) {
                firstReason = choice.path("finish_reason").asText("stop");
            }
            if (choices > 1) {
                events.add(new EngineEvent.ChoiceFinish(index, choice.path("finish_reason").asText("stop")));
            } else {
                break; // one choice asked for: anything more is not ours to pass on
            }
        }
        JsonNode u = node.path("usage");
        var usage = new EngineEvent.Usage(u.path("prompt_tokens").asInt(-1), u.path("completion_tokens").asInt(0));
        events.add(new EngineEvent.Finish(firstReason, usage));
        return new OneShotStream(events);
    }

    /** An upstream's embeddings list ({@code data[].embedding} as floats) as embedding events, then finish. */
    static OneShotStream readEmbeddings(byte[] bytes, ObjectMapper json, String backendId) throws EngineException {
        JsonNode node;
        try {
            node = json.readTree(bytes);
        } catch (IOException e) {
            throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent an unparseable body");
        }
        JsonNode data = node.path("data");
        if (!data.isArray()) {
            throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent no embeddings");
        }
        var events = new ArrayDeque<EngineEvent>(data.size() + 1);
        for (int i = 0; i < data.size(); i++) {
            JsonNode vector = data.get(i).path("embedding");
            if (!vector.isArray()) {
                throw new EngineException(Kind.BAD_RESPONSE, "backend " + backendId + " sent an embedding that is not a list of numbers");
            }
            float[] values = new float[vector.size()];
            for (int d = 0; d < values.length; d++) {
                values[d] = (float) vector.get(d).asDouble();
            }
            events.add(new EngineEvent.Embedding(data.get(i).path("index").asInt(i), values));
        }
        int prompt = node.path("usage").path("prompt_tokens").asInt(-1);
        events.add(new EngineEvent.Finish("stop", new EngineEvent.Usage(prompt, 0)));
        return new OneShotStream(events);
    }

    @Override
    public EngineEvent next() {
        EngineEvent event = events.poll();
        if (event == null) {
            throw new IllegalStateException("stream already finished");
        }
        return event;
    }

    @Override
    public void close() {
        events.clear();
    }
}
