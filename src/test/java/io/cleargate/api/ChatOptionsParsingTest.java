package io.cleargate.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chat options beyond plain text are parsed into what upstreams receive, and every malformed
 * or oversized one is a 400 that names the field at fault.
 */
class ChatOptionsParsingTest {

    private static final ChatCompletionParser PARSER = new ChatCompletionParser(new ObjectMapper(), 256, 4096, 64);
    private static final String WEATHER = """
            {"type":"function","function":{"name":"get_weather","description":"weather",
             "parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}}""";

    private static ChatCompletionParser.ChatCompletion parse(String json) {
        return PARSER.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static GatewayError refused(String json) {
        return assertThrows(GatewayException.class, () -> parse(json)).error();
    }

    @Test
    void toolsToolChoiceAndParallelCallsAreParsed() {
        var c = parse("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"tools":[%s],
                 "tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}"""
                .formatted(WEATHER));
        var tool = c.options().tools().getFirst();
        assertEquals("get_weather", tool.name());
        assertEquals("weather", tool.description());
        assertEquals(Boolean.TRUE, tool.strict());
        assertEquals("object", tool.parameters().get("type"));
        assertEquals("function", c.options().toolChoice().mode());
        assertEquals("get_weather", c.options().toolChoice().function());
        assertEquals(Boolean.FALSE, c.options().parallelToolCalls());
        assertEquals(List.of("get_weather"), c.parameters().get("tools"));
        assertEquals("get_weather", c.parameters().get("tool_choice"));
        assertFalse(c.parameters().toString().contains("properties"), "audit and policy see names, never schemas");
    }

    @Test
    void aToolRoundTripConversationKeepsCallsAndResults() {
        var c = parse("""
                {"model":"m","tools":[%s],"messages":[
                  {"role":"user","content":"weather?"},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
                    "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                  {"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"sunny"}]}]}"""
                .formatted(WEATHER));
        ChatMessage assistant = c.messages().get(1);
        assertEquals("", assistant.content());
        assertEquals("c1", assistant.toolCalls().getFirst().id());
        assertEquals("{\"city\":\"Paris\"}", assistant.toolCalls().getFirst().arguments());
        ChatMessage tool = c.messages().get(2);
        assertEquals(ChatMessage.Role.TOOL, tool.role());
        assertEquals("c1", tool.toolCallId());
        assertEquals("sunny", tool.content());
        assertEquals(List.of("get_weather"), c.parameters().get("tool_calls"));
    }

    @Test
    void responseFormatsLogprobsAndPenaltiesAreParsed() {
        var c = parse("""
                {"model":"m","messages":[{"role":"user","content":"x"}],
                 "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,
                   "schema":{"type":"object","properties":{"a":{"type":"string"}}}}},
                 "logprobs":true,"top_logprobs":3,"presence_penalty":0.5,"frequency_penalty":-1}""");
        assertEquals("json_schema", c.options().responseFormat().type());
        assertEquals("answer", c.options().responseFormat().name());
        assertEquals("object", c.options().responseFormat().schema().get("type"));
        assertEquals(3, c.options().topLogprobs());
        assertEquals(0.5, c.options().presencePenalty());
        assertEquals(-1.0, c.options().frequencyPenalty());
        assertEquals(List.of("response_format", "logprobs", "presence_penalty", "frequency_penalty"),
                c.options().requested());
        assertNull(parse("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}""")
                .options().responseFormat(), "text is the default and asks for nothing");
    }

    @Test
    void malformedToolDefinitionsNameTheField() {
        Map<String, String> cases = Map.of(
                "[{\"type\":\"function\",\"function\":{\"name\":\"has space\"}}]", "tools[0].function.name",
                "[{\"type\":\"code_interpreter\"}]", "tools[0].type",
                "[{\"type\":\"function\"}]", "tools[0].function",
                "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]", "tools[0].function.parameters",
                "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"extra\":1}}]", "tools[0].function.extra",
                "{\"type\":\"function\"}", "tools",
                "[" + WEATHER + "," + WEATHER + "]", "tools[1].function.name");
        cases.forEach((tools, param) -> {
            var error = refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":" + tools + "}");
            assertEquals(400, error.status(), tools);
            assertEquals(param, error.param(), tools);
        });
    }

    @Test
    void oversizedAndDeeplyNestedSchemasAreRefused() {
        String deep = "{\"a\":".repeat(40) + "1" + "}".repeat(40);
        var error = refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],
                 "tools":[{"type":"function","function":{"name":"f","parameters":%s}}]}""".formatted(deep));
        assertEquals("tools[0].function.parameters", error.param());
        assertTrue(error.message().contains("nested"), error.message());

        String big = "{\"type\":\"object\",\"description\":\"" + "x".repeat(40_000) + "\"}";
        error = refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],
                 "response_format":{"type":"json_schema","json_schema":{"name":"n","schema":%s}}}""".formatted(big));
        assertEquals("response_format.json_schema.schema", error.param());
        assertTrue(error.message().contains("bytes"), error.message());
    }

    @Test
    void deeplyNestedToolCallArgumentsAreRefused() {
        String args = "[".repeat(40) + "]".repeat(40);
        var error = refused("""
                {"model":"m","messages":[{"role":"user","content":"x"},
                  {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"%s"}}]},
                  {"role":"tool","tool_call_id":"c","content":"ok"}]}""".formatted(args));
        assertEquals("messages[1].tool_calls[0].function.arguments", error.param());
        // Brackets inside strings do not count.
        String quoted = "{\\\"s\\\":\\\"" + "[".repeat(40) + "\\\"}";
        parse("""
                {"model":"m","messages":[{"role":"user","content":"x"},
                  {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"%s"}}]},
                  {"role":"tool","tool_call_id":"c","content":"ok"}]}""".formatted(quoted));
    }

    @Test
    void toolMessagesMustAnswerAnEarlierCallAndCarryItsId() {
        assertEquals("messages[1].tool_call_id", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"y"}]}""")
                .param());
        assertEquals("messages[1].tool_call_id", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","content":"y"}]}""").param());
        assertEquals("messages[0].tool_calls", refused("""
                {"model":"m","messages":[{"role":"user","content":"x","tool_calls":[
                  {"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}""").param());
        assertEquals("messages[0].content", refused("""
                {"model":"m","messages":[{"role":"assistant"}]}""").param(),
                "an assistant message without tool calls still needs content");
    }

    @Test
    void optionsThatNeedAnotherOptionSayWhich() {
        assertEquals("tool_choice", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto"}""").param());
        assertEquals("parallel_tool_calls", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":true}""").param());
        assertEquals("top_logprobs", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2}""").param());
        assertEquals("tool_choice.function.name", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"tools":[%s],
                 "tool_choice":{"type":"function","function":{"name":"other"}}}""".formatted(WEATHER)).param());
    }

    @Test
    void outOfRangeValuesAreRefused() {
        assertEquals("top_logprobs", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}""").param());
        assertEquals("presence_penalty", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"presence_penalty":2.5}""").param());
        assertEquals("frequency_penalty", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"frequency_penalty":"high"}""").param());
        assertEquals("response_format.type", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}""").param());
        assertEquals("n", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"n":9}""").param());
        assertEquals(2, parse("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"n":2}""").options().n());
    }

    @Test
    void logitBiasesAreTokenIdsToBiasesWithinPlusMinusAHundred() {
        var c = parse("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"94":50,"1":-100}}""");
        assertEquals(Map.of(94, 50.0, 1, -100.0), c.options().logitBias());
        assertEquals(List.of("logit_bias"), c.options().requested());
        assertEquals(2, c.parameters().get("logit_bias"), "policy and audit see how many tokens, not which");
        for (String bad : List.of("{\"x\":1}", "{\"-1\":1}", "{\"007\":1}", "{\"9\":101}", "{\"9\":\"up\"}", "[1]")) {
            assertEquals("logit_bias", refused("""
                    {"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":%s}""".formatted(bad)).param(), bad);
        }
        var many = new StringBuilder("{");
        for (int i = 0; i <= OptionsParser.MAX_LOGIT_BIASES; i++) {
            many.append(i == 0 ? "" : ",").append('"').append(i).append("\":1");
        }
        assertEquals("logit_bias", refused("""
                {"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":%s}}""".formatted(many)).param());
    }

    @Test
    void tooManyToolsOversizedArgumentsAndABodyNestedBeyondTheParsersLimitAreClear400s() {
        String many = String.join(",", java.util.stream.IntStream.range(0, 129).mapToObj(i ->
                "{\"type\":\"function\",\"function\":{\"name\":\"f" + i + "\"}}").toList());
        var error = refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":["
                + many + "]}");
        assertEquals("tools", error.param());
        assertTrue(error.message().contains("128"), error.message());

        String huge = "{\\\"s\\\":\\\"" + "a".repeat(70_000) + "\\\"}";
        error = refused("""
                {"model":"m","messages":[{"role":"user","content":"x"},
                  {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"%s"}}]},
                  {"role":"tool","tool_call_id":"c","content":"ok"}]}""".formatted(huge));
        assertEquals(400, error.status());
        assertEquals("messages[1].tool_calls[0].function.arguments", error.param());

        // Far deeper than any schema limit: the JSON reader's own nesting limit answers, as a 400.
        String abyss = "[".repeat(5_000) + "]".repeat(5_000);
        error = refused("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"metadata\":"
                + abyss + "}");
        assertEquals(400, error.status());
        assertEquals("invalid_json", error.code());
    }
}
