package io.cleargate.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.api.ChatCompletionParser.ChatCompletion;
import io.cleargate.concurrent.FlushPerPass;
import io.cleargate.config.GatewayConfig;
import io.cleargate.domain.EngineRequest;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.identity.Authenticator;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.policy.TenantModels;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * The OpenAI-compatible HTTP surface. Vert.x routes rather than JAX-RS because the gateway must
 * refuse oversized bodies before buffering them and must control exactly when the status line and
 * headers of a stream go out (only after the first chunk has passed every response stage).
 * Each request is handed to its own virtual thread, where the blocking pipeline runs; when no
 * enabled stage blocks (every governance stage switched off) it stays on the event loop that read it.
 */
@ApplicationScoped
public class OpenAiRoutes {

    private static final Logger LOG = Logger.getLogger(OpenAiRoutes.class);
    static final String CHAT_PATH = "/v1/chat/completions";
    static final String EMBEDDINGS_PATH = "/v1/embeddings";
    /** The Vert.x context of the request's connection, kept for the request's virtual thread. */
    private static final String EVENT_LOOP = "cleargate.event-loop";

    private final Pipeline pipeline;
    private final EngineRegistry engines;
    private final ObjectMapper json;
    private final GatewayConfig config;
    private final ChatCompletionParser parser;
    private final EmbeddingsParser embeddingsParser;
    private final RequestMetrics metrics;
    private final Authenticator authenticator;
    private final TenantModels tenantModels;

    @Inject
    public OpenAiRoutes(Pipeline pipeline, EngineRegistry engines, ObjectMapper json, GatewayConfig config,
            RequestMetrics metrics, Authenticator authenticator, TenantModels tenantModels) {
        this.authenticator = authenticator;
        this.tenantModels = tenantModels;
        this.pipeline = pipeline;
        this.engines = engines;
        this.json = json;
        this.config = config;
        this.metrics = metrics;
        var limits = config.limits();
        this.parser = new ChatCompletionParser(json, limits.defaultMaxTokens(), limits.maxTokensCeiling(),
                limits.maxMessages());
        this.embeddingsParser = new EmbeddingsParser(json);
    }

    void register(@Observes Router router) {
        // Runs first for every route, Quarkus' own included, so every response has an id.
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            String id = RequestIds.next();
            ctx.put(RequestIds.CONTEXT_KEY, id);
            ctx.response().putHeader(RequestIds.HEADER, id);
            ctx.next();
        });
        router.route(HttpMethod.POST, CHAT_PATH).order(-10).handler(ctx -> withBody(ctx, "chat", this::runChat));
        router.route(HttpMethod.POST, EMBEDDINGS_PATH).order(-10)
                .handler(ctx -> withBody(ctx, "embeddings", this::runEmbeddings));
        router.route(HttpMethod.GET, "/v1/models").order(-10).handler(this::listModels);
        router.route(HttpMethod.GET, "/v1/models/:id").order(-10).handler(this::getModel);
        for (String path : java.util.List.of(CHAT_PATH, EMBEDDINGS_PATH)) {
            router.route(path).order(-9).handler(ctx -> respond(ctx, new GatewayError(405, "invalid_request_error",
                    "method_not_allowed", null, "Use POST for " + path + ".", null, Map.of("Allow", "POST"))));
        }
    }

    /**
     * Reads a JSON body up to the size limit (refusing a declared oversized body before reading a
     * byte of it), then runs {@code handler} on the request's own virtual thread.
     */
    private void withBody(RoutingContext ctx, String name, java.util.function.BiConsumer<RoutingContext, byte[]> handler) {
        HttpServerRequest request = ctx.request();
        // The answer goes out when the event loop's pass ends, with the other answers of that pass:
        // under load the client is woken once for several (FlushPerPass).
        FlushPerPass.install(request.connection());
        long limit = config.limits().maxBodyBytes();
        String contentLength = request.getHeader("content-length");
        if (contentLength != null && parseLength(contentLength) > limit) {
            // Refuse before reading a byte of the body.
            ctx.response().putHeader("connection", "close");
            respond(ctx, GatewayError.tooLarge(limit));
            return;
        }
        String contentType = request.getHeader("content-type");
        if (contentType != null && !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            respond(ctx, new GatewayError(415, "invalid_request_error", "unsupported_media_type", null,
                    "Send the request body as application/json.", null, null));
            return;
        }
        Buffer body = Buffer.buffer();
        boolean[] refused = {false};
        request.handler(piece -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + piece.length() > limit) {
                refused[0] = true;
                ctx.response().putHeader("connection", "close");
                respond(ctx, GatewayError.tooLarge(limit));
                request.connection().close();
                return;
            }
            body.appendBuffer(piece);
        });
        request.endHandler(v -> {
            if (!refused[0]) {
                ctx.put(EVENT_LOOP, Vertx.currentContext());
                if (pipeline.neverBlocks()) {
                    // No stage blocks: parse and run the stages here; the pipeline moves to a virtual
                    // thread only for what would block (a stream, a backend that only opens blocking).
                    handler.accept(ctx, body.getBytes());
                    return;
                }
                onVirtualThread(name + "-" + ctx.get(RequestIds.CONTEXT_KEY)).execute(() -> handler.accept(ctx, body.getBytes()));
            }
        });
        request.exceptionHandler(e -> LOG.debugf("request body read failed: %s", e.getMessage()));
        request.resume();
    }

    /** Runs tasks on a new virtual thread each, carrying the HTTP server span so stage spans nest under it. */
    private static Executor onVirtualThread(String name) {
        Context trace = Context.current();
        return task -> Thread.ofVirtual().name(name).start(() -> {
            try (Scope ignored = trace.makeCurrent()) {
                task.run();
            }
        });
    }

    /**
     * Runs the exchange: on this event loop when no stage blocks, else here on the request's
     * virtual thread, from which a stream may move to the connection's event loop once the request
     * phase is done (see {@link Pipeline#execute(Exchange, ClientSink, Executor, Executor)}).
     */
    private void run(RoutingContext ctx, Exchange exchange, ClientSink sink) {
        Executor blocking = onVirtualThread("pipeline-" + exchange.requestId());
        if (pipeline.neverBlocks()) {
            pipeline.executeOnEventLoop(exchange, sink, blocking);
        } else {
            io.vertx.core.Context eventLoop = ctx.get(EVENT_LOOP);
            pipeline.execute(exchange, sink, eventLoop == null ? null : task -> eventLoop.runOnContext(v -> task.run()),
                    blocking);
        }
    }

    private void runChat(RoutingContext ctx, byte[] body) {
        String requestId = ctx.get(RequestIds.CONTEXT_KEY);
        var out = new HttpResponder(ctx.response(), json, ctx.get(EVENT_LOOP));
        ChatCompletion request;
        try {
            request = parser.parse(body);
        } catch (GatewayException e) {
            out.error(e.error(), Map.of());
            metrics.refusedBeforePipeline(e.error().status());
            return;
        }
        EngineRequest engineRequest = new EngineRequest(request.model(), request.messages(), request.maxTokens(),
                request.temperature(), request.topP(), request.stop(), request.seed(), request.options());
        var incoming = new IncomingRequest(CHAT_PATH, clientAddress(ctx), headers(ctx.request()), request.model(),
                request.stream(), request.parameters());
        var exchange = new Exchange(requestId, incoming, engineRequest);
        ClientSink sink = ChatSinks.forRequest(request, requestId, out);
        run(ctx, exchange, sink);
    }

    private void runEmbeddings(RoutingContext ctx, byte[] body) {
        String requestId = ctx.get(RequestIds.CONTEXT_KEY);
        var out = new HttpResponder(ctx.response(), json, ctx.get(EVENT_LOOP));
        EmbeddingsParser.Embeddings request;
        try {
            request = embeddingsParser.parse(body);
        } catch (GatewayException e) {
            out.error(e.error(), Map.of());
            metrics.refusedBeforePipeline(e.error().status());
            return;
        }
        var incoming = new IncomingRequest(EMBEDDINGS_PATH, clientAddress(ctx), headers(ctx.request()), request.model(),
                false, request.parameters());
        var exchange = new Exchange(requestId, incoming,
                EngineRequest.embeddings(request.model(), request.inputs(), request.dimensions()));
        run(ctx, exchange, new EmbeddingsSink(out, request.model(), request.base64()));
    }

    private void listModels(RoutingContext ctx) {
        authenticated(ctx, (principal, out) -> {
            var data = tenantModels.visible(principal, engines.models()).stream().map(OpenAiRoutes::modelObject).toList();
            var body = new LinkedHashMap<String, Object>();
            body.put("object", "list");
            body.put("data", data);
            out.json(200, body, Map.of());
        });
    }

    private void getModel(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        authenticated(ctx, (principal, out) -> {
            // One answer for "does not exist" and "not yours".
            if (!tenantModels.visible(principal, engines.models()).contains(id)) {
                out.error(GatewayError.modelNotFound(id), Map.of());
                return;
            }
            out.json(200, modelObject(id), Map.of());
        });
    }

    /**
     * Runs {@code action} on a virtual thread once the caller is authenticated (verification and
     * the policy decision may block); a refusal by either is answered in OpenAI's shape.
     */
    private void authenticated(RoutingContext ctx, java.util.function.BiConsumer<Principal, HttpResponder> action) {
        String authorization = ctx.request().getHeader("authorization");
        io.vertx.core.Context eventLoop = Vertx.currentContext();
        Thread.ofVirtual().start(() -> {
            var out = new HttpResponder(ctx.response(), json, eventLoop);
            try {
                action.accept(authenticator.authenticate(authorization), out);
            } catch (GatewayException e) {
                out.error(e.error(), Map.of());
            }
        });
    }

    private static Map<String, Object> modelObject(String id) {
        var model = new LinkedHashMap<String, Object>();
        model.put("id", id);
        model.put("object", "model");
        model.put("created", 0);
        model.put("owned_by", "cleargate");
        return model;
    }

    private void respond(RoutingContext ctx, GatewayError error) {
        new HttpResponder(ctx.response(), json, null).error(error, Map.of()); // on the event loop already
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String clientAddress(RoutingContext ctx) {
        var remote = ctx.request().remoteAddress();
        return remote == null ? "unknown" : remote.hostAddress();
    }

    private static Map<String, String> headers(HttpServerRequest request) {
        var map = new LinkedHashMap<String, String>();
        request.headers().forEach(e -> map.merge(e.getKey().toLowerCase(Locale.ROOT), e.getValue(), (a, b) -> a + "," + b));
        return map;
    }
}
