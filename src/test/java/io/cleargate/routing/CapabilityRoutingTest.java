package io.cleargate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.domain.RequestOptions;
import io.cleargate.domain.ToolDefinition;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.testsupport.CapturingSink;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Routing sends a request only to backends that honour every field it sets, and to embedding
 * backends only for embeddings: a request no backend can honour is a 400 naming the field, never
 * a request served with the field ignored.
 */
class CapabilityRoutingTest {

    /** An engine that records what it served and refuses the fields it is told to. */
    private static final class FakeEngine implements Engine {
        final List<EngineRequest> served = new CopyOnWriteArrayList<>();
        private final List<String> refuses;

        FakeEngine(List<String> refuses) {
            this.refuses = refuses;
        }

        @Override
        public List<String> unsupported(EngineRequest request) {
            return request.options().requested().stream().filter(refuses::contains).toList();
        }

        @Override
        public EngineStream open(EngineRequest request) {
            served.add(request);
            var events = new ArrayDeque<EngineEvent>(List.of(new EngineEvent.Delta("ok"),
                    new EngineEvent.Finish("stop", new EngineEvent.Usage(1, 1))));
            return new EngineStream() {
                @Override
                public EngineEvent next() {
                    return events.removeFirst();
                }

                @Override
                public void close() {}
            };
        }

        @Override
        public boolean healthy() {
            return true;
        }
    }

    private final FakeEngine embedded = new FakeEngine(List.of("tools", "response_format", "logprobs", "n"));
    private final FakeEngine upstream = new FakeEngine(List.of());

    private Pipeline pipeline(boolean withUpstream) {
        var engines = new LinkedHashMap<Backend, Engine>();
        engines.put(new Backend("local", Backend.Kind.EMBEDDED, Optional.empty(), Optional.of("/m"), List.of("chat"),
                "local", "LOCAL", 1, 4, Optional.empty()), embedded);
        if (withUpstream) {
            engines.put(new Backend("remote", Backend.Kind.OPENAI, Optional.of("http://127.0.0.1:9/v1"), Optional.empty(),
                    List.of("chat"), "local", "LOCAL", 1, 4, Optional.empty(), List.of("embedder"),
                    Map.of("chat", "org/chat-v1")), upstream);
        }
        var registry = new EngineRegistry(engines);
        var pool = new BackendPool(registry, ResidencyRoutingTest.config(java.time.Duration.ofSeconds(1)), null);
        return new Pipeline(List.of(new ResidencyRoutingTest.DecisionStandIn(), new RoutingStage(registry)),
                new RegionDispatcher(pool, 3));
    }

    private static CapturingSink run(Pipeline pipeline, EngineRequest request) {
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), request.model(), false, Map.of());
        var exchange = new Exchange("r", incoming, request);
        exchange.put(ResidencyRoutingTest.REGIONS, new ResidencyRoutingTest.Regions(List.of("local")));
        var sink = new CapturingSink();
        pipeline.execute(exchange, sink);
        return sink;
    }

    private static EngineRequest chat(RequestOptions options) {
        return new EngineRequest("chat", List.of(new ChatMessage(ChatMessage.Role.USER, "hi")), 8, null, null, null,
                null, options);
    }

    private static RequestOptions tools() {
        return new RequestOptions(List.of(new ToolDefinition("f", null, null, null)), null, null, null, null, null,
                null, null, null, null, null);
    }

    @Test
    void aRequestWithToolsGoesOnlyToABackendThatHonoursThem() {
        var pipeline = pipeline(true);
        for (int i = 0; i < 4; i++) {
            assertNull(run(pipeline, chat(tools())).error);
        }
        assertEquals(4, upstream.served.size());
        assertEquals(0, embedded.served.size(), "the embedded engine never sees a request it would have to ignore tools in");
    }

    @Test
    void whenNoBackendHonoursAFieldTheClientGets400NamingIt() {
        var sink = run(pipeline(false), chat(tools()));
        assertNotNull(sink.error);
        assertEquals(400, sink.error.status());
        assertEquals("tools", sink.error.param());
        assertEquals("unsupported_parameter", sink.error.code());
        assertEquals(0, embedded.served.size());
    }

    @Test
    void severalChoicesGoOnlyToAnUpstreamAndWithoutOneAre400NamingN() {
        var two = new RequestOptions(List.of(), null, null, null, null, null, 2, null, null, null, null);
        var pipeline = pipeline(true);
        for (int i = 0; i < 3; i++) {
            assertNull(run(pipeline, chat(two)).error);
        }
        assertEquals(0, embedded.served.size());
        var sink = run(pipeline(false), chat(two));
        assertEquals(400, sink.error.status());
        assertEquals("n", sink.error.param());
    }

    @Test
    void plainChatStillUsesEveryBackend() {
        var pipeline = pipeline(true);
        for (int i = 0; i < 8; i++) {
            assertNull(run(pipeline, chat(RequestOptions.NONE)).error);
        }
        assertEquals(8, embedded.served.size() + upstream.served.size());
        assertEquals(true, embedded.served.size() > 0 && upstream.served.size() > 0, "both backends take plain chat");
    }

    @Test
    void embeddingsGoOnlyToBackendsThatDeclareTheEmbeddingModel() {
        var pipeline = pipeline(true);
        assertNull(run(pipeline, EngineRequest.embeddings("embedder", List.of("a", "b"), null)).error);
        assertEquals(EngineRequest.Kind.EMBEDDINGS, upstream.served.getFirst().kind());

        var chatModel = run(pipeline, EngineRequest.embeddings("chat", List.of("a"), null));
        assertEquals(400, chatModel.error.status());
        assertEquals("model", chatModel.error.param());

        var unknown = run(pipeline, EngineRequest.embeddings("nope", List.of("a"), null));
        assertEquals(404, unknown.error.status());
        assertEquals("model_not_found", unknown.error.code());
    }

    @Test
    void aBackendKnowsTheUpstreamsNameForAGatewayModel() {
        var backend = new Backend("remote", Backend.Kind.OPENAI, Optional.of("http://127.0.0.1:9/v1"), Optional.empty(),
                List.of("chat", "other"), "local", "LOCAL", 1, 4, Optional.empty(), List.of(), Map.of("chat", "org/chat-v1"));
        assertEquals("org/chat-v1", backend.servedName("chat"));
        assertEquals("other", backend.servedName("other"));
    }
}
