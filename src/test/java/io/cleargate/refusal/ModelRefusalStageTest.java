package io.cleargate.refusal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.domain.Route;
import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.refusal.detector.RefusalKind;
import io.cleargate.testsupport.CapturingSink;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
        Transcript transcript = exchange.require(RefusalKeys.ANSWER).transcript;
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
    void whatTheModelSaidBeforeTheFilterStoppedItIsJudgedWhenTheFinalRecordIsWritten() {
        // Stands in for audit, which writes the final record as the filter's end-of-stream passes.
        var seen = new java.util.ArrayList<java.util.Optional<io.cleargate.refusal.detector.RefusalVerdict>>();
        Stage audit = new Stage() {
            @Override
            public StageName name() {
                return StageName.AUDIT;
            }

            @Override
            public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
                if (chunk.endOfStream()) {
                    seen.add(ModelRefusalStage.judgedSoFar(exchange));
                }
                return ChunkResult.pass(chunk);
            }
        };
        for (boolean stream : new boolean[] {false, true}) {
            seen.clear();
            Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.OBSERVE, stream);
            var sink = new CapturingSink();
            new Pipeline(List.of(audit, new BlockingFilter(), new ModelRefusalStage()),
                    ex -> scripted(List.of("I'm sorry, but I can't help with that. ", "Contact me at a@b.example"), "stop"))
                    .execute(exchange, sink);
            assertEquals("content_filter", sink.chunks.getLast().finishReason());
            assertEquals(1, seen.size());
            assertTrue(seen.getFirst().isPresent(), "judged before onComplete");
            assertEquals(RefusalKind.REFUSAL, seen.getFirst().get().kind());
        }
    }

    @Test
    void anUpstreamContentFilterFinishIsTheModelSides() {
        Exchange exchange = exchange();
        run(exchange, List.of(new ModelRefusalStage()), List.of("The events of"), "content_filter");
        assertEquals(RefusalKind.CONTENT_FILTER, exchange.require(RefusalKeys.VERDICT).kind());
    }

    // --- what the tenant's policy does about a declined answer (model_refusal.action) ---

    private static Exchange exchange(PolicyDecision.ModelRefusalAction action, boolean stream) {
        var messages = List.of(new ChatMessage(ChatMessage.Role.USER, "What happened in 1989?"));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), "m", stream, Map.of());
        var exchange = new Exchange("req-2", incoming, new EngineRequest("m", messages, 64, null, null, null, null));
        exchange.put(PolicyDecision.KEY, new PolicyDecision(true, List.of(), List.of("local"),
                new PolicyDecision.Limits(null, null, null), null, null, null, null, Map.of(), List.of("*"), action));
        return exchange;
    }

    /** Backends in order: each answers with its chunks; openAnother moves to the next one, if any. */
    private static final class Backends implements Dispatcher {
        private final List<List<String>> answers;
        int opened;

        Backends(List<List<String>> answers) {
            this.answers = answers;
        }

        @Override
        public EngineStream open(Exchange exchange) {
            exchange.put(Exchange.ROUTE, new Route("b" + opened, "local", "LOCAL"));
            return scripted(answers.get(opened++), "stop");
        }

        @Override
        public Optional<EngineStream> openAnother(Exchange exchange) {
            return opened < answers.size() ? Optional.of(open(exchange)) : Optional.empty();
        }
    }

    private static String text(CapturingSink sink) {
        var sb = new StringBuilder();
        sink.chunks.forEach(c -> sb.append(c.text()));
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> verdictOn(CapturingSink sink) {
        return (Map<String, Object>) sink.chunks.getLast().extensions().get(RefusalSummary.EXTENSION);
    }

    private static final List<String> DEFLECTION = List.of("Sorry, that's beyond ", "my current scope. ",
            "Let's talk about something else.");
    private static final List<String> ANSWER = List.of("In 1989 students gathered ", "in the square for weeks.");

    @Test
    void underARetryPolicyADeclinedAnswerIsDiscardedUnseenAndAskedOnceOfTheNextBackend() {
        for (boolean stream : new boolean[] {false, true}) {
            Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.RETRY, stream);
            var backends = new Backends(List.of(DEFLECTION, ANSWER, ANSWER));
            var sink = new CapturingSink();
            new Pipeline(List.of(new ModelRefusalStage()), backends).execute(exchange, sink);
            assertEquals(String.join("", ANSWER), text(sink), "nothing of the deflection reached the client");
            assertEquals(2, backends.opened, "one retry, no more");
            Map<String, Object> verdict = verdictOn(sink);
            assertEquals("none", verdict.get("kind"));
            assertEquals("retry", verdict.get("action"));
            @SuppressWarnings("unchecked")
            var retry = (Map<String, Object>) verdict.get("retry");
            assertEquals("retried", retry.get("outcome"));
            assertEquals("b0", ((Map<?, ?>) ((List<?>) retry.get("earlier")).getFirst()).get("backend"));
            assertEquals("deflection", ((Map<?, ?>) ((List<?>) retry.get("earlier")).getFirst()).get("kind"));
            RefusalHandling handling = exchange.require(RefusalKeys.HANDLING);
            assertEquals(RefusalKind.DEFLECTION, handling.earlier().getFirst().verdict().kind());
            assertEquals("b1", exchange.require(Exchange.ROUTE).backendId());
            assertEquals(3 + DEFLECTION.size(), exchange.require(Exchange.DISCARDED_USAGE).totalTokens(),
                    "the tenant still pays for the discarded answer");
            if (stream) {
                assertFalse(sink.headers.containsKey(RefusalSummary.HEADER), "the stream's headers left before its verdict");
            } else {
                assertTrue(sink.headers.get(RefusalSummary.HEADER).contains("retried_from=b0"), sink.headers.toString());
            }
        }
    }

    @Test
    void whenTheNextBackendDeclinesTooTheCallerGetsItFlaggedAndNoThirdAttemptIsMade() {
        Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.RETRY, false);
        var backends = new Backends(List.of(DEFLECTION, DEFLECTION, ANSWER));
        var sink = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), backends).execute(exchange, sink);
        assertEquals(2, backends.opened);
        assertEquals(String.join("", DEFLECTION), text(sink));
        Map<String, Object> verdict = verdictOn(sink);
        assertEquals(true, verdict.get("flagged"));
        assertTrue(String.valueOf(verdict.get("notice")).contains("not your organisation's content filter"));
    }

    @Test
    void withNoOtherEligibleBackendTheHeldAnswerGoesOutFlagged() {
        Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.RETRY, true);
        var backends = new Backends(List.of(DEFLECTION));
        var sink = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), backends).execute(exchange, sink);
        assertEquals(String.join("", DEFLECTION), text(sink), "the model's own text, unchanged");
        Map<String, Object> verdict = verdictOn(sink);
        assertEquals("deflection", verdict.get("kind"));
        assertEquals(true, verdict.get("flagged"));
        assertEquals("no_other_backend", ((Map<?, ?>) verdict.get("retry")).get("outcome"));
        assertEquals(List.of(), exchange.require(RefusalKeys.HANDLING).earlier(), "the answer given is the only one");
    }

    @Test
    void aStreamLongerThanTheHoldWindowGoesOutAsItComesAndARefusalInItIsOnlyFlagged() {
        List<String> chunks = new ArrayList<>();
        chunks.add("I can't give legal advice, but here is how deposits generally work. ");
        for (int i = 0; i < 20; i++) {
            chunks.add("The landlord must return the deposit within the period the law sets, minus documented damage. ");
        }
        Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.RETRY, true);
        var backends = new Backends(List.of(chunks, ANSWER));
        var sink = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), backends).execute(exchange, sink);
        assertEquals(1, backends.opened, "released text cannot be taken back: no retry");
        assertEquals(String.join("", chunks), text(sink));
        assertTrue(sink.chunks.size() > 2, "past the hold window chunks stream one by one");
        Map<String, Object> verdict = verdictOn(sink);
        assertEquals("partial", verdict.get("kind"));
        assertEquals("already_released", ((Map<?, ?>) verdict.get("retry")).get("outcome"));
        assertEquals(true, verdict.get("flagged"));
    }

    @Test
    void anAnswerTheModelGaveIsNeverRetried() {
        Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.RETRY, false);
        var backends = new Backends(List.of(ANSWER, ANSWER));
        var sink = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), backends).execute(exchange, sink);
        assertEquals(1, backends.opened);
        assertFalse(verdictOn(sink).containsKey("retry"));
        assertEquals(false, verdictOn(sink).get("flagged"));
    }

    @Test
    void underAFlagPolicyTheDeclinedAnswerCarriesANoticeAndUnderObserveItDoesNot() {
        var flag = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), new Backends(List.of(DEFLECTION)))
                .execute(exchange(PolicyDecision.ModelRefusalAction.FLAG, true), flag);
        assertEquals(String.join("", DEFLECTION), text(flag));
        assertEquals(true, verdictOn(flag).get("flagged"));
        assertTrue(verdictOn(flag).containsKey("notice"));
        assertTrue(flag.chunks.size() > 2, "a flag policy holds nothing back");

        var observe = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), new Backends(List.of(DEFLECTION)))
                .execute(exchange(PolicyDecision.ModelRefusalAction.OBSERVE, true), observe);
        assertEquals(false, verdictOn(observe).get("flagged"));
        assertFalse(verdictOn(observe).containsKey("notice"));
        assertEquals("observe", verdictOn(observe).get("action"));
    }

    @Test
    void onlyTheStageNextToTheEngineMayHaveAnAnswerRetried() {
        // A stage further out asking for a retry gets its fallback emitted: the stages before it saw the answer.
        Stage outer = new Stage() {
            @Override
            public StageName name() {
                return StageName.OUTPUT_MODERATION;
            }

            @Override
            public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
                return chunk.endOfStream() ? ChunkResult.retry(List.of(chunk)) : ChunkResult.pass(chunk);
            }
        };
        Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.OBSERVE, false);
        var backends = new Backends(List.of(ANSWER, ANSWER));
        var sink = new CapturingSink();
        new Pipeline(List.of(outer, new ModelRefusalStage()), backends).execute(exchange, sink);
        assertEquals(1, backends.opened);
        assertEquals(String.join("", ANSWER), text(sink));
    }

    @Test
    void anAnswerMadeOnlyOfToolCallsIsNoEmptyCutoff() {
        Exchange exchange = exchange(PolicyDecision.ModelRefusalAction.RETRY, false);
        Dispatcher tools = ex -> {
            Deque<EngineEvent> events = new ArrayDeque<>();
            events.add(new EngineEvent.ToolCallDelta(0, "call_1", "get_weather", "{}"));
            events.add(new EngineEvent.Finish("tool_calls", null));
            return new EngineStream() {
                @Override
                public EngineEvent next() {
                    return events.removeFirst();
                }

                @Override
                public void close() {}
            };
        };
        var sink = new CapturingSink();
        new Pipeline(List.of(new ModelRefusalStage()), tools).execute(exchange, sink);
        assertEquals(RefusalKind.NONE, exchange.require(RefusalKeys.VERDICT).kind());
    }
}
