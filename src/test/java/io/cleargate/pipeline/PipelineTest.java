package io.cleargate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.testsupport.CapturingSink;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The stage contract: order, short-circuits, reverse response order, completion for all, tracing. */
class PipelineTest {

    private static final String SECRET_PROMPT = "my card is 4111 1111 1111 1111";

    private final List<String> log = new ArrayList<>();
    private final AtomicInteger engineCalls = new AtomicInteger();

    @Test
    void requestStagesRunInOrderAndResponseStagesInReverse() {
        var pipeline = new Pipeline(List.of(stage(StageName.AUTHENTICATE, null), stage(StageName.POLICY, null),
                stage(StageName.OUTPUT_MODERATION, null)), dispatcher("a", "b"));
        var sink = new CapturingSink();
        pipeline.execute(exchange(), sink);
        assertEquals(List.of("req:authenticate", "req:policy", "req:output-moderation",
                "resp:output-moderation", "resp:policy", "resp:authenticate",   // chunk "a"
                "resp:output-moderation", "resp:policy", "resp:authenticate",   // chunk "b"
                "resp:output-moderation", "resp:policy", "resp:authenticate",   // end of stream
                "done:output-moderation", "done:policy", "done:authenticate"), log);
        assertEquals("ab", sink.text());
        assertTrue(sink.ended);
    }

    @Test
    void aShortCircuitStopsLaterStagesAndTheEngineButEveryStageCompletes() {
        var denial = GatewayError.forbidden("policy_denied", "no");
        var pipeline = new Pipeline(List.of(stage(StageName.AUTHENTICATE, null), stage(StageName.POLICY, denial),
                stage(StageName.AUDIT, null)), dispatcher("x"));
        var sink = new CapturingSink();
        Exchange ex = exchange();
        pipeline.execute(ex, sink);
        assertEquals(List.of("req:authenticate", "req:policy", "done:audit", "done:policy", "done:authenticate"), log);
        assertEquals(0, engineCalls.get(), "the engine was never called");
        assertEquals(403, sink.error.status());
        assertEquals("policy", ex.outcome().stoppedBy());
    }

    @Test
    void aStageCanEndTheResponseEarlyAndTheEngineIsClosed() {
        Stage blocker = new Stage() {
            public StageName name() {
                return StageName.OUTPUT_MODERATION;
            }

            public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
                return ChunkResult.pass(ResponseChunk.end("content_filter", null));
            }
        };
        var closed = new AtomicInteger();
        Dispatcher dispatcher = exchange -> new EngineStream() {
            public EngineEvent next() {
                return new EngineEvent.Delta("never released");
            }

            public void close() {
                closed.incrementAndGet();
            }
        };
        var sink = new CapturingSink();
        Exchange ex = exchange();
        new Pipeline(List.of(blocker), dispatcher).execute(ex, sink);
        assertEquals("", sink.text());
        assertEquals("content_filter", sink.chunks.getLast().finishReason());
        assertTrue(closed.get() >= 1, "engine cancelled");
        assertTrue(ex.outcome().complete());
    }

    @Test
    void everyStageGetsASpanWithoutPromptOrOutputText() {
        var exporter = InMemorySpanExporter.create();
        var provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
        var pipeline = new Pipeline(List.of(stage(StageName.AUTHENTICATE, null), stage(StageName.POLICY, null)),
                dispatcher("the model's answer"), List.of(), provider.get("test"));
        pipeline.execute(exchange(), new CapturingSink());
        List<String> names = exporter.getFinishedSpanItems().stream().map(SpanData::getName).toList();
        assertEquals(List.of("cleargate.stage.authenticate", "cleargate.stage.policy", "cleargate.engine"), names);
        for (SpanData span : exporter.getFinishedSpanItems()) {
            String everything = span.getAttributes().toString() + span.getName();
            assertFalse(everything.contains("4111"), "no prompt text in spans");
            assertFalse(everything.contains("answer"), "no output text in spans");
        }
    }

    private Stage stage(StageName name, GatewayError refuse) {
        return new Stage() {
            public StageName name() {
                return name;
            }

            public StageResult onRequest(Exchange exchange) {
                log.add("req:" + name.id());
                return refuse == null ? StageResult.forward() : StageResult.shortCircuit(refuse);
            }

            public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
                log.add("resp:" + name.id());
                return ChunkResult.pass(chunk);
            }

            public void onComplete(Exchange exchange) {
                log.add("done:" + name.id());
            }
        };
    }

    private Dispatcher dispatcher(String... pieces) {
        return exchange -> {
            engineCalls.incrementAndGet();
            Deque<EngineEvent> events = new ArrayDeque<>();
            for (String p : pieces) {
                events.add(new EngineEvent.Delta(p));
            }
            events.add(new EngineEvent.Finish("stop", new EngineEvent.Usage(3, pieces.length)));
            return new EngineStream() {
                public EngineEvent next() {
                    return events.poll();
                }

                public void close() {}
            };
        };
    }

    private static Exchange exchange() {
        var messages = List.of(new ChatMessage(ChatMessage.Role.USER, SECRET_PROMPT));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), "m", true, Map.of());
        return new Exchange("r1", incoming, new EngineRequest("m", messages, 16, null, null, null, null));
    }
}
