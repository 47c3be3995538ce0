package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.domain.RequestOptions;
import io.cleargate.domain.ToolDefinition;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.http.Http1Client;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * A client for one OpenAI-compatible server. Streams (with usage) when the gateway's client
 * streams, else reads one JSON body; either way the result is an {@link EngineStream}, so the
 * pipeline has one path. The upstream's body is never echoed to the client or the log.
 */
final class OpenAiUpstream implements Engine {

    private static final int ERROR_BODY_PEEK = 2048;

    private final Backend backend;
    private final UpstreamLimits limits;
    private final ObjectMapper json;
    private final Http1Client http;
    private final URI chatUri;
    private final URI modelsUri;
    private final URI embeddingsUri;
    private final EgressGuard egress;
    /** The same origin through Vert.x's client, for calls made on an event loop; null where that is not possible. */
    private final EventLoopClient eventLoop;

    OpenAiUpstream(Backend backend, UpstreamLimits limits, ObjectMapper json) {
        this(backend, limits, json, new EgressGuard(false), null);
    }

    OpenAiUpstream(Backend backend, UpstreamLimits limits, ObjectMapper json, EgressGuard egress) {
        this(backend, limits, json, egress, null);
    }

    /** @param vertx the event loops' Vert.x, or null: then every call blocks its (virtual) thread */
    OpenAiUpstream(Backend backend, UpstreamLimits limits, ObjectMapper json, EgressGuard egress, Vertx vertx) {
        this.egress = egress;
        this.backend = backend;
        this.limits = limits;
        this.json = json;
        String base = stripSlash(backend.baseUrl().orElseThrow());
        this.chatUri = URI.create(base + "/chat/completions");
        this.modelsUri = URI.create(base + "/models");
        this.embeddingsUri = URI.create(base + "/embeddings");
        // Redirects are never followed: a backend's answer is its own.
        this.http = new Http1Client(chatUri, limits.connect());
        this.eventLoop = EventLoopClient.forOrigin(vertx, chatUri, backend.id(), limits);
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    @Override
    public EngineStream open(EngineRequest request) throws EngineException {
        return open(request, true);
    }

    @Override
    public EngineStream open(EngineRequest request, boolean clientStreams) throws EngineException {
        long deadline = System.nanoTime() + limits.total().toNanos();
        URI target = request.kind() == EngineRequest.Kind.EMBEDDINGS ? embeddingsUri : chatUri;
        String refusal = egress.refusal(target);
        if (refusal != null) {
            throw new EngineException(Kind.UNAVAILABLE, "backend " + backend.id() + " refused at connect time: " + refusal);
        }
        if (request.kind() == EngineRequest.Kind.EMBEDDINGS) {
            var response = send(embeddingsUri, "application/json", embeddingsBody(request));
            return OneShotStream.readEmbeddings(readBody(response, deadline), json, backend.id());
        }
        var response = send(chatUri, clientStreams ? "text/event-stream" : "application/json",
                body(request, clientStreams));
        int choices = request.options().n() == null ? 1 : request.options().n();
        if (!clientStreams) {
            return OneShotStream.read(readBody(response, deadline), json, backend.id(), choices);
        }
        return new SseEngineStream(response.body(), json, limits, deadline, backend.id(), choices);
    }

    /**
     * A chat completion, streamed or not, can be called from an event loop when this backend's
     * origin allows a call without a DNS lookup or TLS handshake on that loop (see {@link EventLoopClient}).
     */
    @Override
    public boolean opensWithoutBlocking(EngineRequest request, boolean clientStreams) {
        return eventLoop != null && request.kind() == EngineRequest.Kind.CHAT;
    }

    @Override
    public CompletionStage<EngineStream> openWithoutBlocking(EngineRequest request, boolean clientStreams) {
        String refusal = egress.refusal(chatUri); // an address literal: no lookup
        if (refusal != null) {
            return CompletableFuture.failedFuture(new EngineException(Kind.UNAVAILABLE,
                    "backend " + backend.id() + " refused at connect time: " + refusal));
        }
        if (!Context.isOnEventLoopThread()) {
            throw new IllegalStateException("openWithoutBlocking is for the event loop");
        }
        int choices = request.options().n() == null ? 1 : request.options().n();
        if (clientStreams) {
            return eventLoop.stream(chatUri.getRawPath(), requestHeaders("text/event-stream"), body(request, true), json,
                    choices);
        }
        return eventLoop.post(chatUri.getRawPath(), requestHeaders("application/json"), body(request, false))
                .thenApply(bytes -> {
                    try {
                        return OneShotStream.read(bytes, json, backend.id(), choices);
                    } catch (EngineException e) {
                        throw new CompletionException(e);
                    }
                });
    }

    private Map<String, String> requestHeaders(String accept) {
        var headers = new LinkedHashMap<String, String>(4);
        headers.put("content-type", "application/json");
        headers.put("accept", accept);
        backend.apiKey().ifPresent(key -> headers.put("authorization", "Bearer " + key));
        return headers;
    }

    /**
     * Sends a POST on the calling (virtual) thread; returns once a 2xx status has arrived within the
     * connect and first-byte timeouts.
     */
    private Http1Client.Response send(URI uri, String accept, byte[] body) throws EngineException {
        var headers = requestHeaders(accept);
        Http1Client.Response response;
        try {
            response = http.send("POST", uri, headers, body, limits.firstByte());
        } catch (SocketTimeoutException e) {
            throw new EngineException(Kind.TIMEOUT, "no response from backend " + backend.id() + " within the first-byte timeout");
        } catch (IOException e) {
            throw new EngineException(Kind.UNAVAILABLE, "cannot reach backend " + backend.id());
        }
        if (response.status() / 100 != 2) {
            throw statusFailure(response);
        }
        return response;
    }

    /** The whole non-streamed body, by the request's total deadline and within the size cap. */
    private byte[] readBody(Http1Client.Response response, long deadline) throws EngineException {
        byte[] bytes;
        try {
            bytes = Http1Client.readAll(response.body(), limits.maxResponseBytes(), deadline);
        } catch (SocketTimeoutException e) {
            throw new EngineException(Kind.TIMEOUT, "backend " + backend.id() + " exceeded the total timeout");
        } catch (IOException e) {
            throw new EngineException(Kind.UNAVAILABLE, "backend " + backend.id() + " connection failed");
        }
        if (bytes.length > limits.maxResponseBytes()) {
            throw new EngineException(Kind.TOO_LARGE,
                    "backend " + backend.id() + " response exceeded " + limits.maxResponseBytes() + " bytes");
        }
        return bytes;
    }

    private byte[] embeddingsBody(EngineRequest request) {
        var body = new LinkedHashMap<String, Object>();
        body.put("model", backend.servedName(request.model()));
        body.put("input", request.messages().stream().map(ChatMessage::content).toList());
        body.put("encoding_format", "float");
        if (request.options().dimensions() != null) {
            body.put("dimensions", request.options().dimensions());
        }
        try {
            return json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private EngineException statusFailure(Http1Client.Response response) {
        int status = response.status();
        try {
            // Drain a little (never shown) so a short error body leaves its connection reusable.
            Http1Client.readAll(response.body(), ERROR_BODY_PEEK, System.nanoTime() + limits.firstByte().toNanos());
        } catch (IOException ignored) {
            // the status is what matters
        }
        Kind kind = status == 429 || status >= 500 ? Kind.UNAVAILABLE : Kind.BAD_RESPONSE;
        return new EngineException(kind, "backend " + backend.id() + " answered HTTP " + status);
    }

    private byte[] body(EngineRequest request, boolean stream) {
        var body = new LinkedHashMap<String, Object>();
        body.put("model", backend.servedName(request.model()));
        body.put("messages", request.messages().stream().map(OpenAiUpstream::message).toList());
        body.put("max_tokens", request.maxTokens());
        if (request.temperature() != null) {
            body.put("temperature", request.temperature());
        }
        if (request.topP() != null) {
            body.put("top_p", request.topP());
        }
        if (!request.stop().isEmpty()) {
            body.put("stop", request.stop());
        }
        if (request.seed() != null) {
            body.put("seed", request.seed());
        }
        putOptions(body, request.options());
        body.put("stream", stream);
        if (stream) {
            body.put("stream_options", Map.of("include_usage", true));
        }
        try {
            return json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The options beyond sampling, in OpenAI's wire shape; only members that are set. */
    static void putOptions(Map<String, Object> body, RequestOptions options) {
        if (!options.tools().isEmpty()) {
            body.put("tools", options.tools().stream().map(OpenAiUpstream::tool).toList());
        }
        if (options.toolChoice() != null) {
            var choice = options.toolChoice();
            body.put("tool_choice", choice.function() == null ? choice.mode()
                    : Map.of("type", "function", "function", Map.of("name", choice.function())));
        }
        if (options.parallelToolCalls() != null) {
            body.put("parallel_tool_calls", options.parallelToolCalls());
        }
        if (options.responseFormat() != null) {
            body.put("response_format", responseFormat(options.responseFormat()));
        }
        if (options.logprobs() != null) {
            body.put("logprobs", options.logprobs());
        }
        if (options.topLogprobs() != null) {
            body.put("top_logprobs", options.topLogprobs());
        }
        if (options.n() != null) {
            body.put("n", options.n());
        }
        if (options.presencePenalty() != null) {
            body.put("presence_penalty", options.presencePenalty());
        }
        if (options.frequencyPenalty() != null) {
            body.put("frequency_penalty", options.frequencyPenalty());
        }
        if (!options.logitBias().isEmpty()) {
            var bias = new LinkedHashMap<String, Object>();
            options.logitBias().forEach((token, value) -> bias.put(Integer.toString(token), value));
            body.put("logit_bias", bias);
        }
    }

    private static Map<String, Object> tool(ToolDefinition tool) {
        var fn = new LinkedHashMap<String, Object>();
        fn.put("name", tool.name());
        if (tool.description() != null) {
            fn.put("description", tool.description());
        }
        if (tool.parameters() != null) {
            fn.put("parameters", tool.parameters());
        }
        if (tool.strict() != null) {
            fn.put("strict", tool.strict());
        }
        return Map.of("type", "function", "function", fn);
    }

    private static Map<String, Object> responseFormat(RequestOptions.ResponseFormat format) {
        var out = new LinkedHashMap<String, Object>();
        out.put("type", format.type());
        if (format.type().equals("json_schema")) {
            var spec = new LinkedHashMap<String, Object>();
            spec.put("name", format.name());
            if (format.description() != null) {
                spec.put("description", format.description());
            }
            spec.put("schema", format.schema());
            if (format.strict() != null) {
                spec.put("strict", format.strict());
            }
            out.put("json_schema", spec);
        }
        return out;
    }

    private static Map<String, Object> message(ChatMessage m) {
        var message = new LinkedHashMap<String, Object>();
        message.put("role", m.role().wireName());
        // OpenAI's own convention: an assistant turn that only calls tools has null content.
        message.put("content", m.content().isEmpty() && !m.toolCalls().isEmpty() ? null : m.content());
        if (!m.toolCalls().isEmpty()) {
            message.put("tool_calls", m.toolCalls().stream().map(c -> Map.of("id", c.id(), "type", "function",
                    "function", Map.of("name", c.name(), "arguments", c.arguments()))).toList());
        }
        if (m.toolCallId() != null) {
            message.put("tool_call_id", m.toolCallId());
        }
        return message;
    }

    @Override
    public boolean healthy() {
        if (egress.refusal(modelsUri) != null) {
            return false;
        }
        var headers = new LinkedHashMap<String, String>(2);
        backend.apiKey().ifPresent(key -> headers.put("authorization", "Bearer " + key));
        try {
            var response = http.send("GET", modelsUri, headers, null, limits.connect());
            // Read to its end (a model list is small) so the connection is reused.
            Http1Client.readAll(response.body(), 256 * 1024, System.nanoTime() + limits.connect().toNanos());
            return response.status() / 100 == 2;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        http.close();
        if (eventLoop != null) {
            eventLoop.close();
        }
    }
}
