package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
    private final HttpClient http;
    private final URI chatUri;
    private final URI modelsUri;
    private final EgressGuard egress;

    OpenAiUpstream(Backend backend, UpstreamLimits limits, ObjectMapper json) {
        this(backend, limits, json, new EgressGuard(false));
    }

    OpenAiUpstream(Backend backend, UpstreamLimits limits, ObjectMapper json, EgressGuard egress) {
        this.egress = egress;
        this.backend = backend;
        this.limits = limits;
        this.json = json;
        String base = stripSlash(backend.baseUrl().orElseThrow());
        this.chatUri = URI.create(base + "/chat/completions");
        this.modelsUri = URI.create(base + "/models");
        this.http = HttpClient.newBuilder()
                .connectTimeout(limits.connect())
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .build();
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
        String refusal = egress.refusal(chatUri);
        if (refusal != null) {
            throw new EngineException(Kind.UNAVAILABLE, "backend " + backend.id() + " refused at connect time: " + refusal);
        }
        HttpRequest httpRequest = requestBuilder(chatUri)
                .timeout(limits.firstByte())
                .header("content-type", "application/json")
                .header("accept", clientStreams ? "text/event-stream" : "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body(request, clientStreams)))
                .build();
        var future = http.sendAsync(httpRequest, HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> response;
        try {
            response = future.get(limits.connect().plus(limits.firstByte()).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new EngineException(Kind.TIMEOUT, "no response from backend " + backend.id() + " within the first-byte timeout");
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.UNAVAILABLE, "interrupted while calling backend " + backend.id());
        }
        if (response.statusCode() / 100 != 2) {
            throw statusFailure(response);
        }
        if (!clientStreams) {
            return OneShotStream.read(response.body(), json, limits, backend.id());
        }
        return new SseEngineStream(response.body(), json, limits, deadline, backend.id());
    }

    private EngineException failure(Throwable cause) {
        if (cause instanceof HttpTimeoutException) {
            return new EngineException(Kind.TIMEOUT, "backend " + backend.id() + " timed out");
        }
        if (cause instanceof ConnectException || cause instanceof IOException) {
            return new EngineException(Kind.UNAVAILABLE, "cannot reach backend " + backend.id());
        }
        return new EngineException(Kind.UNAVAILABLE, "backend " + backend.id() + " failed");
    }

    private EngineException statusFailure(HttpResponse<InputStream> response) {
        int status = response.statusCode();
        try (InputStream body = response.body()) {
            body.readNBytes(ERROR_BODY_PEEK); // drain a little so the connection can be reused; never shown
        } catch (IOException ignored) {
            // the status is what matters
        }
        Kind kind = status == 429 || status >= 500 ? Kind.UNAVAILABLE : Kind.BAD_RESPONSE;
        return new EngineException(kind, "backend " + backend.id() + " answered HTTP " + status);
    }

    private HttpRequest.Builder requestBuilder(URI uri) {
        var builder = HttpRequest.newBuilder(uri);
        backend.apiKey().ifPresent(key -> builder.header("authorization", "Bearer " + key));
        return builder;
    }

    private byte[] body(EngineRequest request, boolean stream) {
        var body = new LinkedHashMap<String, Object>();
        body.put("model", request.model());
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

    private static Map<String, String> message(ChatMessage m) {
        var message = new LinkedHashMap<String, String>();
        message.put("role", m.role().wireName());
        message.put("content", m.content());
        return message;
    }

    @Override
    public boolean healthy() {
        if (egress.refusal(modelsUri) != null) {
            return false;
        }
        try {
            var response = http.send(requestBuilder(modelsUri).timeout(limits.connect()).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
            return response.statusCode() / 100 == 2;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        http.shutdownNow();
    }
}
