package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine behind the SPI, on the v3-tiny checkpoint (random weights, so only behaviour is checked, not wording). */
class EmbeddedEngineTest {

    private static EmbeddedEngine engine;

    @BeforeAll
    static void load() {
        engine = EmbeddedEngine.load(Fixtures.model("v3-tiny"), new EmbeddedEngine.Options(128, 4, 8));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static EngineRequest request(String text, int maxTokens, Double temperature, Long seed, List<String> stop) {
        return new EngineRequest("tiny", List.of(new ChatMessage(ChatMessage.Role.USER, text)), maxTokens, temperature, 1.0, stop, seed);
    }

    record Outcome(String text, EngineEvent.Finish finish) {}

    private static Outcome run(EngineRequest request) throws EngineException {
        StringBuilder text = new StringBuilder();
        try (EngineStream stream = engine.open(request)) {
            while (true) {
                EngineEvent e = stream.next();
                if (e instanceof EngineEvent.Delta d) {
                    text.append(d.text());
                } else {
                    return new Outcome(text.toString(), (EngineEvent.Finish) e);
                }
            }
        }
    }

    @Test
    void streamsTextThenFinishesWithUsage() throws Exception {
        Outcome out = run(request("Hello world.", 12, 0.0, null, List.of()));
        assertTrue(List.of("stop", "length").contains(out.finish().reason()));
        int prompt = Fixtures.ints(Fixtures.fixture("v3-tiny").path("tokenizer").path("chat").get(0).path("ids")).size();
        assertTrue(out.finish().usage().promptTokens() > 3);
        assertTrue(out.finish().usage().completionTokens() >= 1 && out.finish().usage().completionTokens() <= 12);
        assertTrue(prompt > 0);
    }

    @Test
    void greedyOutputMatchesTheModelsArgmaxContinuation() throws Exception {
        // The fixture's prompt is the chat rendering of this message; greedy ids come from transformers.
        var f = Fixtures.fixture("v3-tiny");
        List<Integer> greedy = Fixtures.ints(f.path("greedy_ids"));
        int eos = engine.tokenizer().tokenId("<｜end▁of▁sentence｜>").orElseThrow();
        int n = greedy.contains(eos) ? greedy.indexOf(eos) : 16;
        Outcome out = run(request("Explain the router of a mixture of experts in simple words, please.", Math.max(1, Math.min(n, 16)), 0.0, null, List.of()));
        assertEquals(engine.tokenizer().decode(greedy.subList(0, Math.max(1, Math.min(n, 16)))), out.text());
    }

    @Test
    void sameSeedSameTextAcrossConcurrentSequences() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Callable<Outcome>> jobs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                jobs.add(() -> run(request("Write a short poem about the sea.", 20, 1.0, 99L, List.of())));
            }
            List<Future<Outcome>> results = pool.invokeAll(jobs);
            String first = results.get(0).get().text();
            for (Future<Outcome> r : results) {
                assertEquals(first, r.get().text());
            }
            assertEquals(first, run(request("Write a short poem about the sea.", 20, 1.0, 99L, List.of())).text());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void stopSequenceEndsGenerationBeforeIt() throws Exception {
        Outcome free = run(request("Count: 1 2 3", 24, 1.0, 5L, List.of()));
        if (free.text().length() < 4) {
            return; // EOS came first; nothing to cut (random weights).
        }
        String stop = free.text().substring(2, 4);
        Outcome cut = run(request("Count: 1 2 3", 24, 1.0, 5L, List.of(stop)));
        assertEquals("stop", cut.finish().reason());
        assertEquals(free.text().substring(0, free.text().indexOf(stop)), cut.text());
    }

    @Test
    void promptLongerThanTheContextIsAnInvalidRequest() {
        EngineException e = assertThrows(EngineException.class, () -> engine.open(request("word ".repeat(400), 4, 0.0, null, List.of())));
        assertEquals(EngineException.Kind.INVALID_REQUEST, e.kind());
        assertTrue(e.getMessage().contains("context"));
    }

    @Test
    void closingTheStreamCancelsGenerationAndFreesTheSlot() throws Exception {
        for (int i = 0; i < 10; i++) {
            EngineStream stream = engine.open(request("Hello", 100, 1.0, (long) i, List.of()));
            stream.close();
        }
        // All four slots are free again (a leaked slot would make this refuse as busy).
        Outcome out = run(request("Hello", 4, 0.0, null, List.of()));
        assertFalse(out.finish().reason().isEmpty());
        assertInstanceOf(EngineEvent.Finish.class, out.finish());
    }

    @Test
    void refusesByNameWhatItCannotHonour() {
        var user = new ChatMessage(ChatMessage.Role.USER, "hi");
        var tool = new io.cleargate.domain.ToolDefinition("get_weather", null, null, null);
        var plain = io.cleargate.domain.RequestOptions.NONE;
        assertEquals(List.of(), engine.unsupported(request("hi", 8, null, null, null)));
        var tools = new io.cleargate.domain.RequestOptions(List.of(tool), null, null, null, null, null, null, null, null,
                null, null);
        assertEquals(List.of("tools"), engine.unsupported(
                new EngineRequest("tiny", List.of(user), 8, null, null, null, null, tools)));
        var json = new io.cleargate.domain.RequestOptions(List.of(), null, null,
                new io.cleargate.domain.RequestOptions.ResponseFormat("json_object", null, null, null, null),
                null, null, null, null, null, null, null);
        assertEquals(List.of("response_format"), engine.unsupported(
                new EngineRequest("tiny", List.of(user), 8, null, null, null, null, json)));
        var two = new io.cleargate.domain.RequestOptions(List.of(), null, null, null, null, null, 2, null, null, null,
                null);
        assertEquals(List.of("n"), engine.unsupported(
                new EngineRequest("tiny", List.of(user), 8, null, null, null, null, two)),
                "several choices are refused by name, not answered with one");
        var biased = new io.cleargate.domain.RequestOptions(List.of(), null, null, null, null, null, null, null, null,
                null, java.util.Map.of(42, 10.0));
        assertEquals(List.of("logit_bias"), engine.unsupported(
                new EngineRequest("tiny", List.of(user), 8, null, null, null, null, biased)),
                "logit biases are refused by name, not ignored");
        var history = List.of(user, new ChatMessage(ChatMessage.Role.ASSISTANT, "",
                List.of(new io.cleargate.domain.ToolCall("c1", "get_weather", "{}")), null),
                new ChatMessage(ChatMessage.Role.TOOL, "sunny", List.of(), "c1"));
        assertEquals(List.of("messages"), engine.unsupported(
                new EngineRequest("tiny", history, 8, null, null, null, null, plain)),
                "a conversation with tool calls cannot be formatted by the embedded template");
    }
}
