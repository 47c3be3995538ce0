package io.cleargate.api;

import io.cleargate.api.ChatCompletionParser.ChatCompletion;
import io.cleargate.domain.EngineEvent.TokenLogprob;
import io.cleargate.domain.EngineEvent.ToolCallDelta;
import io.cleargate.domain.EngineEvent.Usage;
import io.cleargate.domain.ToolCall;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.ReleasedText;
import io.cleargate.pipeline.ToolCallAssembly;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/** The two ways a chat completion reaches the client: one JSON body, or an SSE stream. */
final class ChatSinks {

    private ChatSinks() {}

    static ClientSink forRequest(ChatCompletion request, String requestId, HttpResponder out) {
        var ids = new CompletionIds("chatcmpl-" + requestId, System.currentTimeMillis() / 1000, request.model());
        return request.stream() ? new Sse(ids, request.includeUsage(), out)
                : new Json(ids, Boolean.TRUE.equals(request.options().logprobs()), out);
    }

    record CompletionIds(String id, long created, String model) {}

    /** Common disconnect tracking. */
    private abstract static class Base implements ClientSink {
        final HttpResponder out;
        final CompletionIds ids;
        private final AtomicBoolean gone = new AtomicBoolean();
        private final List<Runnable> onGone = new ArrayList<>();

        Base(CompletionIds ids, HttpResponder out) {
            this.ids = ids;
            this.out = out;
            out.response().closeHandler(v -> markGone());
        }

        private void markGone() {
            if (!out.response().ended() && gone.compareAndSet(false, true)) {
                List<Runnable> actions;
                synchronized (onGone) {
                    actions = List.copyOf(onGone);
                }
                actions.forEach(Runnable::run);
            }
        }

        @Override
        public boolean clientGone() {
            return gone.get();
        }

        @Override
        public void onGone(Runnable action) {
            synchronized (onGone) {
                onGone.add(action);
            }
            if (gone.get()) {
                action.run();
            }
        }

        @Override
        public boolean writable() {
            return out.writable();
        }

        @Override
        public void whenWritable(Runnable action) {
            out.whenWritable(action);
        }
    }

    /** One choice as the JSON sink gathers it. */
    private static final class Choice {
        final ReleasedText text = new ReleasedText();
        final ToolCallAssembly calls = new ToolCallAssembly();
        final List<TokenLogprob> logprobs = new ArrayList<>();
        String finishReason;
    }

    /** Gathers the chunks and answers with one chat.completion object (a choice per index, n > 1). */
    static final class Json extends Base {
        private final Map<Integer, Choice> choices = new java.util.TreeMap<>(Map.of(0, new Choice()));
        private final boolean wantsLogprobs;
        private Map<String, String> headers = Map.of();
        private ResponseChunk last;
        private final Map<String, Object> extensions = new LinkedHashMap<>();

        Json(CompletionIds ids, boolean wantsLogprobs, HttpResponder out) {
            super(ids, out);
            this.wantsLogprobs = wantsLogprobs;
        }

        @Override
        public void start(Map<String, String> liveHeaders) {
            // The exchange's live map: headers added after the first chunk (output moderation's
            // summary) still go out, since this sink answers only at the end.
            headers = liveHeaders;
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            Choice choice = choices.computeIfAbsent(chunk.choice(), k -> new Choice());
            choice.text.append(chunk.text());
            choice.calls.addAll(chunk.toolCalls());
            choice.logprobs.addAll(chunk.logprobs());
            extensions.putAll(chunk.extensions());
            if (chunk.endsChoice()) {
                choice.finishReason = chunk.finishReason();
            }
            if (chunk.endOfStream()) {
                last = chunk;
            }
            return !clientGone();
        }

        @Override
        public void end() {
            List<Object> list = new ArrayList<>();
            choices.forEach((index, c) -> list.add(choice(index, c)));
            var body = new LinkedHashMap<String, Object>();
            body.put("id", ids.id());
            body.put("object", "chat.completion");
            body.put("created", ids.created());
            body.put("model", ids.model());
            body.put("choices", list);
            body.put("usage", usage(last == null ? null : last.usage()));
            body.putAll(extensions);
            out.json(200, body, Map.copyOf(headers));
        }

        private Map<String, Object> choice(int index, Choice c) {
            var message = new LinkedHashMap<String, Object>();
            message.put("role", "assistant");
            // As OpenAI answers: a turn that only calls tools has null content.
            message.put("content", c.text.isEmpty() && !c.calls.isEmpty() ? null : c.text.toString());
            if (!c.calls.isEmpty()) {
                message.put("tool_calls", c.calls.calls().stream().map(ChatSinks::toolCall).toList());
            }
            var choice = new LinkedHashMap<String, Object>();
            choice.put("index", index);
            choice.put("message", message);
            // A choice of several ended with its own finish; a single one with the stream's.
            choice.put("finish_reason", c.finishReason != null ? c.finishReason : last == null ? "stop" : last.finishReason());
            choice.put("logprobs", wantsLogprobs ? Map.of("content", c.logprobs.stream().map(ChatSinks::logprob).toList()) : null);
            return choice;
        }

        @Override
        public void fail(GatewayError error, Map<String, String> failHeaders, boolean started) {
            // Nothing has reached the client yet, whatever the pipeline sent us: answer with a status.
            var merged = new LinkedHashMap<>(headers);
            merged.putAll(failHeaders);
            out.error(error, merged);
        }
    }

    /**
     * The JSON of a text-only frame, byte for byte what Jackson writes for the frame's maps
     * ({@code {id, object, created, model, choices: [{index, delta: {content}, finish_reason: null,
     * logprobs: null}]}}), from a prefix built once per stream and the text quoted as Jackson quotes
     * strings: serialising maps for every chunk was most of the cost of framing a stream.
     */
    static final class TextFrames {
        private static final com.fasterxml.jackson.core.io.JsonStringEncoder QUOTES =
                com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance();
        private static final byte[] CONTENT = ",\"delta\":{\"content\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private static final byte[] TEXT_END = "\"},\"finish_reason\":null,\"logprobs\":null}]}"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final byte[] prefix;

        /** @param base the stream's {@code {id, object, created, model}} object as Jackson wrote it */
        TextFrames(byte[] base) {
            byte[] more = ",\"choices\":[{\"index\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            prefix = java.util.Arrays.copyOf(base, base.length - 1 + more.length); // without its closing brace
            System.arraycopy(more, 0, prefix, base.length - 1, more.length);
        }

        /**
         * The frame's JSON in parts, or null when the text has a surrogate: Jackson writes a pair
         * as two escapes, not as UTF-8, and a lone one its own way, so such text is left to it.
         */
        byte[][] parts(int index, String text) {
            for (int i = 0; i < text.length(); i++) {
                if (Character.isSurrogate(text.charAt(i))) {
                    return null;
                }
            }
            return new byte[][] {prefix, Integer.toString(index).getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                    CONTENT, QUOTES.quoteAsUTF8(text), TEXT_END};
        }
    }

    /** Server-sent events in OpenAI's chat.completion.chunk format. */
    static final class Sse extends Base {
        /** Built on the stream's first text-only frame. */
        private TextFrames textFrames;
        private final boolean includeUsage;
        private final java.util.Set<Integer> roleSent = new java.util.HashSet<>();
        /** True once a choice ended on its own (n > 1): the stream's end then carries no finish_reason. */
        private boolean choicesEndAlone;

        Sse(CompletionIds ids, boolean includeUsage, HttpResponder out) {
            super(ids, out);
            this.includeUsage = includeUsage;
        }

        @Override
        public void start(Map<String, String> headers) {
            out.response().setStatusCode(200);
            out.headers(headers);
            out.response().putHeader("content-type", "text/event-stream; charset=utf-8");
            out.response().putHeader("cache-control", "no-cache");
            out.response().setChunked(true);
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            int index = chunk.choice();
            boolean content = !chunk.text().isEmpty() || !chunk.logprobs().isEmpty();
            boolean firstOfChoice = !roleSent.contains(index);
            if (content && !firstOfChoice && chunk.logprobs().isEmpty()) {
                if (!sendText(index, chunk.text())) {
                    return false;
                }
            } else if (content || (firstOfChoice && chunk.toolCalls().isEmpty() && !(choicesEndAlone && chunk.endOfStream()))) {
                var delta = new LinkedHashMap<String, Object>();
                if (roleSent.add(index)) {
                    delta.put("role", "assistant");
                }
                delta.put("content", chunk.text());
                Object logprobs = chunk.logprobs().isEmpty() ? null
                        : Map.of("content", chunk.logprobs().stream().map(ChatSinks::logprob).toList());
                if (!send(frame(index, delta, null, logprobs, Map.of()))) {
                    return false;
                }
            }
            if (!chunk.toolCalls().isEmpty()) {
                var delta = new LinkedHashMap<String, Object>();
                if (roleSent.add(index)) {
                    delta.put("role", "assistant");
                    delta.put("content", null);
                }
                delta.put("tool_calls", chunk.toolCalls().stream().map(ChatSinks::toolCallDelta).toList());
                if (!send(frame(index, delta, null, null, Map.of()))) {
                    return false;
                }
            }
            if (chunk.endsChoice()) {
                choicesEndAlone = true;
                if (!send(frame(index, Map.of(), chunk.finishReason(), null, Map.of()))) {
                    return false;
                }
            }
            if (chunk.endOfStream()) {
                if (choicesEndAlone) {
                    // Every choice has had its finish_reason: the last frame carries what the stages add.
                    if (!chunk.extensions().isEmpty()) {
                        var frame = base();
                        frame.put("choices", List.of());
                        frame.putAll(chunk.extensions());
                        if (!send(frame)) {
                            return false;
                        }
                    }
                } else if (!send(frame(0, Map.of(), chunk.finishReason(), null, chunk.extensions()))) {
                    return false;
                }
                if (includeUsage) {
                    var usageFrame = base();
                    usageFrame.put("choices", List.of());
                    usageFrame.put("usage", usage(chunk.usage()));
                    return send(usageFrame);
                }
            }
            return !clientGone();
        }

        /** A frame of text only (most of a stream's frames), written from its parts ({@link TextFrames}). */
        private boolean sendText(int index, String text) {
            if (textFrames == null) {
                textFrames = new TextFrames(out.bytes(base()));
            }
            byte[][] parts = textFrames.parts(index, text);
            if (parts == null) {
                var delta = new LinkedHashMap<String, Object>();
                delta.put("content", text);
                return send(frame(index, delta, null, null, Map.of()));
            }
            return out.event(parts);
        }

        @Override
        public void end() {
            out.write("data: [DONE]\n\n");
            out.end();
        }

        @Override
        public void fail(GatewayError error, Map<String, String> headers, boolean started) {
            if (!started) {
                out.error(error, headers);
                return;
            }
            // Mid-stream: the status is already 200. An error event is what OpenAI's SDKs raise on.
            out.write("data: " + new String(out.bytes(error.toBody()), java.nio.charset.StandardCharsets.UTF_8) + "\n\n");
            out.end();
        }

        private Map<String, Object> base() {
            var frame = new LinkedHashMap<String, Object>();
            frame.put("id", ids.id());
            frame.put("object", "chat.completion.chunk");
            frame.put("created", ids.created());
            frame.put("model", ids.model());
            return frame;
        }

        private Map<String, Object> frame(int index, Map<String, Object> delta, String finishReason, Object logprobs,
                Map<String, Object> extensions) {
            var choice = new LinkedHashMap<String, Object>();
            choice.put("index", index);
            choice.put("delta", delta);
            choice.put("finish_reason", finishReason);
            choice.put("logprobs", logprobs);
            var frame = base();
            frame.put("choices", List.of(choice));
            frame.putAll(extensions);
            return frame;
        }

        private boolean send(Map<String, Object> frame) {
            return out.event(out.bytes(frame));
        }
    }

    private static Map<String, Object> toolCall(ToolCall call) {
        var fn = new LinkedHashMap<String, Object>();
        fn.put("name", call.name());
        fn.put("arguments", call.arguments());
        var m = new LinkedHashMap<String, Object>();
        m.put("id", call.id());
        m.put("type", "function");
        m.put("function", fn);
        return m;
    }

    /** A streamed piece of a call: index always, id, type and name on the first piece only. */
    private static Map<String, Object> toolCallDelta(ToolCallDelta delta) {
        var fn = new LinkedHashMap<String, Object>();
        if (delta.name() != null) {
            fn.put("name", delta.name());
        }
        fn.put("arguments", delta.arguments());
        var m = new LinkedHashMap<String, Object>();
        m.put("index", delta.index());
        if (delta.id() != null) {
            m.put("id", delta.id());
            m.put("type", "function");
        }
        m.put("function", fn);
        return m;
    }

    private static Map<String, Object> logprob(TokenLogprob token) {
        var m = new LinkedHashMap<String, Object>();
        m.put("token", token.token());
        m.put("logprob", token.logprob());
        m.put("bytes", bytes(token.token()));
        m.put("top_logprobs", token.top().stream().map(t -> {
            var alt = new LinkedHashMap<String, Object>();
            alt.put("token", t.token());
            alt.put("logprob", t.logprob());
            alt.put("bytes", bytes(t.token()));
            return alt;
        }).toList());
        return m;
    }

    private static List<Integer> bytes(String token) {
        byte[] utf8 = token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var out = new ArrayList<Integer>(utf8.length);
        for (byte b : utf8) {
            out.add(b & 0xff);
        }
        return out;
    }

    static Map<String, Object> usage(Usage usage) {
        var map = new LinkedHashMap<String, Object>();
        int prompt = usage == null ? 0 : Math.max(usage.promptTokens(), 0);
        int completion = usage == null ? 0 : usage.completionTokens();
        map.put("prompt_tokens", prompt);
        map.put("completion_tokens", completion);
        map.put("total_tokens", prompt + completion);
        return map;
    }
}
