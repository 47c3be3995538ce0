package io.cleargate.api;

import io.cleargate.api.ChatCompletionParser.ChatCompletion;
import io.cleargate.domain.EngineEvent.Usage;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
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
        return request.stream() ? new Sse(ids, request.includeUsage(), out) : new Json(ids, out);
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
    }

    /** Gathers the chunks and answers with one chat.completion object. */
    static final class Json extends Base {
        private final StringBuilder text = new StringBuilder();
        private Map<String, String> headers = Map.of();
        private ResponseChunk last;
        private final Map<String, Object> extensions = new LinkedHashMap<>();

        Json(CompletionIds ids, HttpResponder out) {
            super(ids, out);
        }

        @Override
        public void start(Map<String, String> liveHeaders) {
            // The exchange's live map: headers added after the first chunk (output moderation's
            // summary) still go out, since this sink answers only at the end.
            headers = liveHeaders;
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            text.append(chunk.text());
            extensions.putAll(chunk.extensions());
            if (chunk.endOfStream()) {
                last = chunk;
            }
            return !clientGone();
        }

        @Override
        public void end() {
            var message = new LinkedHashMap<String, Object>();
            message.put("role", "assistant");
            message.put("content", text.toString());
            var choice = new LinkedHashMap<String, Object>();
            choice.put("index", 0);
            choice.put("message", message);
            choice.put("finish_reason", last == null ? "stop" : last.finishReason());
            choice.put("logprobs", null);
            var body = new LinkedHashMap<String, Object>();
            body.put("id", ids.id());
            body.put("object", "chat.completion");
            body.put("created", ids.created());
            body.put("model", ids.model());
            body.put("choices", List.of(choice));
            body.put("usage", usage(last == null ? null : last.usage()));
            body.putAll(extensions);
            out.json(200, body, Map.copyOf(headers));
        }

        @Override
        public void fail(GatewayError error, Map<String, String> failHeaders, boolean started) {
            // Nothing has reached the client yet, whatever the pipeline sent us: answer with a status.
            var merged = new LinkedHashMap<>(headers);
            merged.putAll(failHeaders);
            out.error(error, merged);
        }
    }

    /** Server-sent events in OpenAI's chat.completion.chunk format. */
    static final class Sse extends Base {
        private final boolean includeUsage;
        private boolean roleSent;

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
            if (!chunk.text().isEmpty() || !roleSent) {
                var delta = new LinkedHashMap<String, Object>();
                if (!roleSent) {
                    delta.put("role", "assistant");
                    roleSent = true;
                }
                delta.put("content", chunk.text());
                if (!send(frame(delta, null, Map.of()))) {
                    return false;
                }
            }
            if (chunk.endOfStream()) {
                if (!send(frame(Map.of(), chunk.finishReason(), chunk.extensions()))) {
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

        private Map<String, Object> frame(Map<String, Object> delta, String finishReason, Map<String, Object> extensions) {
            var choice = new LinkedHashMap<String, Object>();
            choice.put("index", 0);
            choice.put("delta", delta);
            choice.put("finish_reason", finishReason);
            choice.put("logprobs", null);
            var frame = base();
            frame.put("choices", List.of(choice));
            frame.putAll(extensions);
            return frame;
        }

        private boolean send(Map<String, Object> frame) {
            return out.write("data: " + new String(out.bytes(frame), java.nio.charset.StandardCharsets.UTF_8) + "\n\n");
        }
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
