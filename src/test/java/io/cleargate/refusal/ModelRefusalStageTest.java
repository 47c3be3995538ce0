package io.cleargate.refusal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.refusal.detector.RefusalKind;
import io.cleargate.testsupport.CapturingSink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The model-refusal stage in a real pipeline with a scripted engine: it observes and never changes a byte. */
class ModelRefusalStageTest {

    private static Exchange exchange() {
        var messages = List.of(new ChatMessage(ChatMessage.Role.USER, "What happened in 1989?"));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), "m", true, Map.of());
        return new Exchange("req-1", incoming, new EngineRequest("m", messages, 64, null, null, null, null));
    }

    private static EngineStream scripted(List<String> chunks, String finishReason) {
        Deque<EngineEvent> events = new ArrayDeque<>();
        chunks.forEach(c -> events.add(new EngineEvent.Delta(c)));
        events.add(new EngineEvent.Finish(finishReason, new EngineEvent.Usage(3, chunks.size())));
        return new EngineStream() {
            @Override
            public EngineEvent next() {
                return events.removeFirst();
            }

            @Override
            public void close() {
                events.clear();
            }
        };
    }

    private static CapturingSink run(Exchange exchange, List<Stage> stages, List<String> chunks, String finish) {
        var sink = new CapturingSink();
        new Pipeline(stages, ex -> scripted(chunks, finish)).execute(exchange, sink);
        return sink;
    }

    @Test
    void everyChunkPassesUnchangedAndTheFinalOneCarriesTheVerdict() {
        var chunks = List.of("Sorry, that's beyond ", "my current scope. ", "Let's talk about something else.");
        Exchange exchange = exchange();
        CapturingSink sink = run(exchange, List.of(new ModelRefusalStage()), chunks, "stop");
        var texts = new ArrayList<String>();
        sink.chunks.forEach(c -> texts.add(c.text()));
        assertEquals(String.join("", chunks), String.join("", texts));
        ResponseChunk last = sink.chunks.getLast();
        assertTrue(last.endOfStream());
        assertEquals("stop", last.finishReason());
        @SuppressWarnings("unchecked")
        var verdict = (Map<String, Object>) last.extensions().get(RefusalSummary.EXTENSION);
        assertEquals("deflection", verdict.get("kind"));
        assertEquals(RefusalKind.DEFLECTION, exchange.require(RefusalKeys.VERDICT).kind());
        assertTrue(exchange.responseHeaders().get(RefusalSummary.HEADER).startsWith("kind=deflection"));
    }

    @Test
    void aLongAnswerKeepsOnlyItsStartInMemory() {
        List<String> chunks = new ArrayList<>();
        chunks.add("I can't give legal advice, but here is how deposits generally work. ");
        for (int i = 0; i < 200; i++) {
            chunks.add("The landlord must return the deposit within the period the law sets, minus documented damage. ");
        }
        Exchange exchange = exchange();
        run(exchange, List.of(new ModelRefusalStage()), chunks, "stop");
        Transcript transcript = exchange.require(RefusalKeys.TRANSCRIPT);
        assertEquals(4096, transcript.text().length());
        assertEquals(String.join("", chunks).length(), transcript.length());
        assertEquals(RefusalKind.PARTIAL, exchange.require(RefusalKeys.VERDICT).kind());
    }

    /** Stands in for output moderation: blocks on the second chunk as the tenant's filter would. */
    private static final class BlockingFilter implements Stage {
        private int seen;

        @Override
        public StageName name() {
            return StageName.OUTPUT_MODERATION;
        }

        @Override
        public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
            return ++seen < 2 ? ChunkResult.pass(chunk) : ChunkResult.pass(ResponseChunk.end("content_filter", null));
        }
    }

    @Test
    void whenTheTenantsFilterStopsTheAnswerTheModelIsJudgedOnWhatItSaidAndNotBlamedForTheFilter() {
        Exchange exchange = exchange();
        CapturingSink sink = run(exchange, List.of(new BlockingFilter(), new ModelRefusalStage()),
                List.of("I'm sorry, but I can't help with that. ", "Contact me at a@b.example", " later."), "stop");
        assertEquals("content_filter", sink.chunks.getLast().finishReason(), "the client sees the tenant's filter");
        assertEquals(RefusalKind.REFUSAL, exchange.require(RefusalKeys.VERDICT).kind(),
                "the model's own verdict, not content_filter");
    }

    @Test
    void anUpstreamContentFilterFinishIsTheModelSides() {
        Exchange exchange = exchange();
        run(exchange, List.of(new ModelRefusalStage()), List.of("The events of"), "content_filter");
        assertEquals(RefusalKind.CONTENT_FILTER, exchange.require(RefusalKeys.VERDICT).kind());
    }
}
