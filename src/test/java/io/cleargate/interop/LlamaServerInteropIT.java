package io.cleargate.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.JsonPrefix;
import io.cleargate.testsupport.LlamaServer;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import io.cleargate.testsupport.Sse;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The packaged gateway (real OPA, the repository's policies, the development tenant) in front of
 * llama.cpp's {@code llama-server}, which nobody here wrote, serving the bundled model converted to
 * GGUF by llama.cpp's own converter. One llama-server answers chat (with {@code --jinja} and a
 * template that renders tools), a second one embeddings. The gateway knows them under its own model
 * ids and maps them to the served name (served-names). Run by {@code bin/cleargate interop}, which
 * builds llama.cpp and converts the model first; left out of {@code ./mvnw verify} (see pom.xml).
 *
 * <p>The model's weights are random, so its text means nothing; what is checked is the protocol:
 * shapes, streaming, log probabilities, grammar-constrained JSON, tools reaching the upstream's
 * template, embeddings, usage as the upstream counted it, and the gateway's governance around them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LlamaServerInteropIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "cg_1a2b3c4d_" + "5e".repeat(32);
    private static final String CHAT = "llama-tiny";
    private static final String EMBED = "llama-tiny-embed";
    private static final String TENANT = "interop";
    private static final String TENANT_DATA = "cleargate/tenants/" + TENANT + "/data.json";

    private LlamaServer chatServer;
    private LlamaServer embedServer;
    private OpaServer opa;
    private PackagedGateway gateway;
    /** Prompt plus completion tokens llama-server reported for each answered request. */
    private long tokensReported;
    private int answered;

    @BeforeAll
    void startLlamaServerBehindTheGateway() throws Exception {
        Path binary = LlamaServer.required("interop.llama-server");
        Path gguf = LlamaServer.required("interop.gguf");
        Path template = OpaServer.repoRoot().resolve("src/test/resources/interop/tool-template.jinja");
        Path data = Scratch.dir("cleargate-interop-");
        chatServer = LlamaServer.start(binary, gguf, "tiny-gguf",
                List.of("--jinja", "--chat-template-file", template.toString()), data);
        embedServer = LlamaServer.start(binary, gguf, "tiny-gguf", List.of("--embeddings", "--pooling", "mean"), data);
        opa = OpaServer.start(Map.of(TENANT_DATA, interopTenant()));
        Map<String, String> props = new LinkedHashMap<>(PackagedGateway.governed(opa));
        props.put("cleargate.dev.create-key", "true");
        props.put("cleargate.dev.key", KEY);
        props.put("cleargate.dev.tenant", TENANT);
        backend(props, "llama", chatServer.baseUrl(), "models", CHAT);
        backend(props, "llama-embed", embedServer.baseUrl(), "embedding-models", EMBED);
        gateway = PackagedGateway.start(data, props, Map.of());
    }

    /**
     * The development tenant's settings under a tenant of the check's own, which lists its tools
     * (the development tenant allows every tool, and the policy's tests say so).
     */
    private static String interopTenant() throws java.io.IOException {
        var settings = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(Files.readString(
                OpaServer.repoRoot().resolve("policies/cleargate/tenants/dev/data.json")));
        settings.put("description", "The llama.cpp interop check: the development tenant with a list of tools.");
        settings.set("tools", JSON.valueToTree(List.of("get_weather", "lookup_account")));
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(settings);
    }

    private static void backend(Map<String, String> props, String id, String url, String kind, String model) {
        props.put("cleargate.backends." + id + ".kind", "openai");
        props.put("cleargate.backends." + id + ".base-url", url);
        props.put("cleargate.backends." + id + "." + kind, model);
        props.put("cleargate.backends." + id + ".served-names." + model, "tiny-gguf");
        props.put("cleargate.backends." + id + ".region", "local");
        props.put("cleargate.backends." + id + ".jurisdiction", "LOCAL");
    }

    @AfterAll
    void stopEverything() {
        for (AutoCloseable c : new AutoCloseable[] {gateway, opa, chatServer, embedServer}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private HttpResponse<String> post(String path, Map<String, Object> body) {
        try {
            return gateway.call("POST", path, KEY, JSON.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode ok(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        try {
            return JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            throw new AssertionError(r.body(), e);
        }
    }

    private static Map<String, Object> chat(Object... more) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", CHAT);
        body.put("max_tokens", 12);
        body.put("messages", List.of(Map.of("role", "user", "content", "Say something.")));
        for (int i = 0; i < more.length; i += 2) {
            body.put((String) more[i], more[i + 1]);
        }
        return body;
    }

    private void count(JsonNode usage) {
        tokensReported += usage.path("prompt_tokens").asLong() + usage.path("completion_tokens").asLong();
        answered++;
    }

    @Test
    @Order(1)
    void aChatCompletionComesBackFromLlamaServerInOpenAisShapeWithItsUsage() {
        var r = post("/v1/chat/completions", chat());
        JsonNode body = ok(r);
        assertEquals("llama", r.headers().firstValue("x-cleargate-backend").orElse(""));
        assertEquals(CHAT, body.path("model").asText(), "clients see the gateway's model id, not the served name");
        JsonNode choice = body.path("choices").path(0);
        assertEquals("assistant", choice.path("message").path("role").asText());
        assertTrue(choice.path("message").path("content").isTextual(), body.toString());
        // Random weights: the model may reach its end-of-sequence token before max_tokens.
        assertTrue(java.util.Set.of("length", "stop").contains(choice.path("finish_reason").asText()), body.toString());
        int completion = body.path("usage").path("completion_tokens").asInt();
        assertTrue(completion > 0 && completion <= 12, "usage as llama-server counted it: " + body);
        assertTrue(body.path("usage").path("prompt_tokens").asInt() > 0, body.toString());
        count(body.path("usage"));
    }

    @Test
    @Order(2)
    void aStreamArrivesAsChunksEndingWithFinishReasonUsageAndDone() {
        var r = post("/v1/chat/completions", chat("stream", true, "stream_options", Map.of("include_usage", true)));
        assertEquals(200, r.statusCode(), r.body());
        List<String> events = Sse.data(r.body());
        assertEquals("[DONE]", events.getLast());
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = read(e);
            for (JsonNode c : chunk.path("choices")) {
                text.append(c.path("delta").path("content").asText(""));
                if (c.hasNonNull("finish_reason")) {
                    finish = c.path("finish_reason").asText();
                }
            }
            if (chunk.hasNonNull("usage")) {
                usage = chunk.path("usage");
            }
        }
        assertTrue(events.size() > 3, "several chunks: " + events.size());
        assertTrue(java.util.Set.of("length", "stop").contains(finish), String.valueOf(finish));
        assertTrue(usage != null && usage.path("completion_tokens").asInt() > 0
                && usage.path("completion_tokens").asInt() <= 12, String.valueOf(usage));
        count(usage);
    }

    @Test
    @Order(3)
    void logProbabilitiesWithAlternativesComeThroughForEveryToken() {
        JsonNode body = ok(post("/v1/chat/completions", chat("logprobs", true, "top_logprobs", 2)));
        JsonNode content = body.path("choices").path(0).path("logprobs").path("content");
        assertTrue(content.size() > 0, body.toString());
        for (JsonNode token : content) {
            assertTrue(token.path("logprob").asDouble() <= 0, token.toString());
            assertEquals(2, token.path("top_logprobs").size(), token.toString());
        }
        count(body.path("usage"));
    }

    @Test
    @Order(4)
    void jsonModeWithASchemaIsHonouredByTheUpstreamsGrammar() throws Exception {
        Map<String, Object> schema = Map.of("type", "object", "properties", Map.of("ok", Map.of("type", "boolean")),
                "required", List.of("ok"), "additionalProperties", false);
        JsonNode body = ok(post("/v1/chat/completions", chat("max_tokens", 200, "response_format",
                Map.of("type", "json_schema", "json_schema", Map.of("name", "verdict", "schema", schema)))));
        String content = body.path("choices").path(0).path("message").path("content").asText();
        JsonNode parsed = JSON.readTree(content);
        assertTrue(parsed.path("ok").isBoolean(), content);
        assertEquals(1, parsed.size(), content);
        count(body.path("usage"));
    }

    @Test
    @Order(5)
    void toolsAndAToolCallRoundTripReachTheUpstreamsTemplate() {
        Map<String, Object> tool = Map.of("type", "function", "function", Map.of("name", "get_weather",
                "description", "The weather in a city.", "parameters", Map.of("type", "object",
                        "properties", Map.of("city", Map.of("type", "string")), "required", List.of("city"))));
        List<Object> conversation = List.of(
                Map.of("role", "user", "content", "Weather in Paris?"),
                Map.of("role", "assistant", "content", "", "tool_calls", List.of(Map.of("id", "call_1", "type", "function",
                        "function", Map.of("name", "get_weather", "arguments", "{\"city\":\"Paris\"}")))),
                Map.of("role", "tool", "tool_call_id", "call_1", "content", "{\"temperature_c\":21}"));
        JsonNode without = ok(post("/v1/chat/completions", chat("messages", conversation.subList(0, 1))));
        JsonNode with = ok(post("/v1/chat/completions", chat("messages", conversation, "tools", List.of(tool),
                "tool_choice", "auto")));
        // llama-server's template renders the functions and the earlier call and its result into the
        // prompt, so it counts more prompt tokens: the tools went through the gateway to the upstream.
        assertTrue(with.path("usage").path("prompt_tokens").asInt()
                > without.path("usage").path("prompt_tokens").asInt() + 20, with + " vs " + without);
        count(without.path("usage"));
        count(with.path("usage"));
        var refused = post("/v1/chat/completions", chat("tools", List.of(Map.of("type", "function",
                "function", Map.of("name", "bad name!", "parameters", Map.of("type", "object"))))));
        assertEquals(400, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("\"param\""), refused.body());
    }


    // Tool calls produced by llama-server. The random model would wander in free text for ever:
    // llama.cpp's grammar for tool_choice "required" lets text come before the call (up to the
    // first '{' with this template). logit_bias, passed through by the gateway like any OpenAI
    // field, makes '{' the model's first choice; from there the grammar built from the tool's
    // schema (one enum-valued argument, nothing else allowed) writes the whole call, and once it
    // is closed the biased end-of-sequence token ends the turn. llama.cpp's own parser then turns
    // the text into OpenAI tool_calls, JSON and streamed. Token ids come from llama-server's
    // tokenizer, as a client's would.

    private Map<String, Object> weatherTool() {
        return tool("get_weather", "city", "Paris");
    }

    private static Map<String, Object> tool(String name, String argument, String onlyValue) {
        return Map.of("type", "function", "function", Map.of("name", name, "description", "A tool for the interop check.",
                "parameters", Map.of("type", "object", "properties", Map.of(argument, Map.of("type", "string",
                        "enum", List.of(onlyValue))), "required", List.of(argument), "additionalProperties", false)));
    }

    private Map<String, Object> forcedCall(Map<String, Object> tool, Object... more) throws Exception {
        Map<String, Object> bias = new LinkedHashMap<>();
        bias.put(Integer.toString(chatServer.tokenId("{")), 50);
        bias.put(Integer.toString(chatServer.tokenId("<｜end▁of▁sentence｜>")), 100);
        Map<String, Object> body = chat("max_tokens", 200, "temperature", 0, "messages",
                List.of(Map.of("role", "user", "content", "Call the tool.")), "tools", List.of(tool),
                "tool_choice", "required", "parallel_tool_calls", false, "logit_bias", bias);
        for (int i = 0; i < more.length; i += 2) {
            body.put((String) more[i], more[i + 1]);
        }
        return body;
    }

    /** The one call of a streamed answer, reassembled from its deltas, and the stream's finish reason and usage. */
    private record StreamedCall(String id, String name, String arguments, String finish, JsonNode usage, JsonNode extras) {}

    private static StreamedCall reassemble(String sse) {
        List<String> events = Sse.data(sse);
        assertEquals("[DONE]", events.getLast());
        String id = null;
        String name = null;
        StringBuilder arguments = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        var extras = JSON.createObjectNode();
        int deltas = 0;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = read(e);
            chunk.properties().forEach(f -> {
                if (f.getKey().startsWith("cleargate_")) {
                    extras.set(f.getKey(), f.getValue());
                }
            });
            for (JsonNode c : chunk.path("choices")) {
                for (JsonNode call : c.path("delta").path("tool_calls")) {
                    assertEquals(0, call.path("index").asInt(), "one call: " + call);
                    deltas++;
                    if (call.hasNonNull("id")) {
                        id = call.path("id").asText();
                    }
                    if (call.path("function").hasNonNull("name")) {
                        name = call.path("function").path("name").asText();
                    }
                    arguments.append(call.path("function").path("arguments").asText(""));
                }
                if (c.hasNonNull("finish_reason")) {
                    finish = c.path("finish_reason").asText();
                }
            }
            if (chunk.hasNonNull("usage")) {
                usage = chunk.path("usage");
            }
        }
        assertTrue(deltas > 1, "the arguments arrive in several deltas: " + deltas);
        return new StreamedCall(id, name, arguments.toString(), finish, usage, extras);
    }

    /** The request's final audit record (body and decrypted output), read through the compliance API. */
    private JsonNode finalRecord(String requestId) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        JsonNode detail = null;
        do {
            JsonNode items = records(requestId);
            assertTrue(items.size() > 0, "no audit record for " + requestId);
            detail = ok(gateway.call("GET", "/audit/records/" + items.get(0).path("id").asLong()
                    + "?reason=interop", KEY, null));
            for (JsonNode entry : detail.path("entries")) {
                if ("final".equals(entry.path("kind").asText())) {
                    return entry;
                }
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("no final record: " + detail);
    }

    /** The request's one audit record (a refusal has no request and final pair), as a summary row. */
    private JsonNode finalOrRefusal(String requestId) throws InterruptedException {
        JsonNode items = records(requestId);
        assertEquals(1, items.size(), items.toString());
        return items.get(0);
    }

    /**
     * The request's audit records. A refusal is recorded as the request completes, which may be a
     * moment after the client has its answer: waited for, up to five seconds.
     */
    private JsonNode records(String requestId) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        JsonNode items;
        do {
            items = ok(gateway.call("GET", "/audit/records?request_id=" + requestId, KEY, null)).path("items");
            if (items.size() > 0) {
                return items;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return items;
    }

    private String lastCallId;
    private int firstCallPromptTokens;

    @Test
    @Order(6)
    void llamaServerCallsTheToolAndTheClientGetsOpenAisToolCallsWithTheCallInTheAuditTrail() throws Exception {
        var r = post("/v1/chat/completions", forcedCall(weatherTool()));
        JsonNode body = ok(r);
        JsonNode choice = body.path("choices").path(0);
        assertEquals("tool_calls", choice.path("finish_reason").asText(), body.toString());
        JsonNode calls = choice.path("message").path("tool_calls");
        assertEquals(1, calls.size(), body.toString());
        JsonNode call = calls.get(0);
        assertEquals("function", call.path("type").asText());
        assertEquals("get_weather", call.path("function").path("name").asText());
        assertFalse(call.path("id").asText().isBlank(), "llama-server's call id: " + call);
        JsonNode arguments = JSON.readTree(call.path("function").path("arguments").asText());
        assertEquals("Paris", arguments.path("city").asText(), "written by llama.cpp's schema grammar: " + arguments);
        assertEquals(1, arguments.size(), arguments.toString());
        count(body.path("usage"));
        lastCallId = call.path("id").asText();
        firstCallPromptTokens = body.path("usage").path("prompt_tokens").asInt();

        JsonNode record = finalRecord(r.headers().firstValue("x-request-id").orElseThrow());
        assertEquals(lastCallId, record.path("body").path("tool_calls").path(0).path("id").asText(), record.toString());
        assertEquals("get_weather", record.path("body").path("tool_calls").path(0).path("name").asText());
        JsonNode output = JSON.readTree(record.path("content").path("text").asText());
        assertEquals(call.path("function").path("arguments").asText(),
                output.path("tool_calls").path(0).path("arguments").asText(), "the audit keeps the call as released");
    }

    @Test
    @Order(7)
    void aStreamedCallArrivesAsToolCallDeltasThatReassembleIntoTheSameCall() throws Exception {
        var r = post("/v1/chat/completions", forcedCall(weatherTool(), "stream", true,
                "stream_options", Map.of("include_usage", true)));
        assertEquals(200, r.statusCode(), r.body());
        StreamedCall call = reassemble(r.body());
        assertEquals("tool_calls", call.finish());
        assertEquals("get_weather", call.name());
        assertTrue(call.id() != null && !call.id().isBlank(), r.body());
        assertEquals("Paris", JSON.readTree(call.arguments()).path("city").asText(), call.arguments());
        assertTrue(call.usage() != null && call.usage().path("completion_tokens").asInt() > 0, r.body());
        count(call.usage());
        JsonNode record = finalRecord(r.headers().firstValue("x-request-id").orElseThrow());
        assertEquals(call.id(), record.path("body").path("tool_calls").path(0).path("id").asText(), record.toString());
    }

    @Test
    @Order(8)
    void anEmailAddressTheModelPutsIntoAToolArgumentIsRedactedLikeTextJsonAndStreamed() throws Exception {
        String address = "alice.interop@example.com";
        Map<String, Object> lookup = tool("lookup_account", "email", address);
        for (boolean stream : new boolean[] {false, true}) {
            var r = stream
                    ? post("/v1/chat/completions", forcedCall(lookup, "stream", true,
                            "stream_options", Map.of("include_usage", true)))
                    : post("/v1/chat/completions", forcedCall(lookup));
            assertEquals(200, r.statusCode(), r.body());
            String arguments;
            JsonNode extras;
            if (stream) {
                StreamedCall call = reassemble(r.body());
                assertEquals("tool_calls", call.finish());
                arguments = call.arguments();
                extras = call.extras();
                count(call.usage());
            } else {
                JsonNode body = read(r.body());
                assertEquals("tool_calls", body.path("choices").path(0).path("finish_reason").asText(), r.body());
                arguments = body.path("choices").path(0).path("message").path("tool_calls").path(0).path("function")
                        .path("arguments").asText();
                extras = body;
                count(body.path("usage"));
            }
            assertFalse(r.body().contains(address), "stream=" + stream + ": " + r.body());
            assertEquals("[EMAIL_1]", JSON.readTree(arguments).path("email").asText(), arguments);
            boolean verdict = false;
            for (JsonNode v : extras.path("cleargate_moderation").path("verdicts")) {
                verdict |= "output".equals(v.path("direction").asText()) && "redact".equals(v.path("action").asText())
                        && "tool_calls[0].arguments".equals(v.path("field").asText());
            }
            assertTrue(verdict, "a verdict names the field: " + extras);
            JsonNode record = finalRecord(r.headers().firstValue("x-request-id").orElseThrow());
            String kept = record.path("content").path("text").asText();
            assertTrue(kept.contains("[EMAIL_1]") && !kept.contains(address), "the audit keeps what was released: " + kept);
        }
    }

    @Test
    @Order(9)
    void theCallsResultGoesBackToLlamaServerAndTheTurnEnds() throws Exception {
        assertTrue(lastCallId != null, "needs the call from the first tool test");
        List<Object> conversation = List.of(
                Map.of("role", "user", "content", "Call the tool."),
                Map.of("role", "assistant", "content", "", "tool_calls", List.of(Map.of("id", lastCallId,
                        "type", "function", "function", Map.of("name", "get_weather", "arguments", "{\"city\":\"Paris\"}")))),
                Map.of("role", "tool", "tool_call_id", lastCallId, "content", "{\"temperature_c\":21}"));
        // Only the end-of-sequence bias: the answer after the result is the model's to give, and a
        // random model's text is not worth reading; ending the turn at once keeps it well-formed.
        Map<String, Object> bias = Map.of(Integer.toString(chatServer.tokenId("<｜end▁of▁sentence｜>")), 100);
        JsonNode body = ok(post("/v1/chat/completions", chat("messages", conversation, "tools", List.of(weatherTool()),
                "tool_choice", "auto", "temperature", 0, "logit_bias", bias)));
        JsonNode choice = body.path("choices").path(0);
        assertEquals("stop", choice.path("finish_reason").asText(), body.toString());
        assertTrue(choice.path("message").path("tool_calls").isMissingNode()
                || choice.path("message").path("tool_calls").isEmpty(), body.toString());
        assertTrue(body.path("usage").path("prompt_tokens").asInt() > firstCallPromptTokens + 10,
                "the call and its result were rendered into llama-server's prompt: " + body.path("usage")
                        + " vs " + firstCallPromptTokens);
        count(body.path("usage"));
    }

    @Test
    @Order(10)
    void aToolTheTenantsPolicyDoesNotListIsRefusedBeforeLlamaServerIsAsked() throws Exception {
        // The same forced call that llama-server answers for get_weather, for a tool the tenant's
        // policy does not list: refused by policy, so llama-server never sees it.
        var refused = post("/v1/chat/completions", forcedCall(tool("delete_account", "email", "a@example.com")));
        assertEquals(403, refused.statusCode(), refused.body());
        JsonNode error = read(refused.body()).path("error");
        assertEquals("tool_not_allowed", error.path("reasons").path(0).path("code").asText(), error.toString());
        assertTrue(error.path("message").asText().contains("delete_account"), error.toString());
        JsonNode record = finalOrRefusal(refused.headers().firstValue("x-request-id").orElseThrow());
        assertEquals(403, record.path("http_status").asInt(), record.toString());
    }

    @Test
    @Order(11)
    void jsonObjectModeReachesLlamaServersJsonGrammar() throws Exception {
        // Two prompts: on this build one reaches a closed object within max_tokens and the other runs
        // out inside a string. Either way the text is JSON or the beginning of it, which the random
        // model's free text (the control without response_format) is not.
        for (String prompt : List.of("Describe a cat as JSON.", "List three colors in a JSON object.")) {
            var messages = List.of(Map.of("role", "user", "content", prompt));
            JsonNode body = ok(post("/v1/chat/completions", chat("messages", messages, "max_tokens", 60,
                    "temperature", 0, "response_format", Map.of("type", "json_object"))));
            JsonNode choice = body.path("choices").path(0);
            String content = choice.path("message").path("content").asText();
            String finish = choice.path("finish_reason").asText();
            if (finish.equals("stop")) {
                assertTrue(JSON.readTree(content).isObject(), "a complete JSON object: " + content);
            } else {
                assertEquals("length", finish, body.toString());
                assertTrue(content.stripLeading().startsWith("{") && JsonPrefix.isPrefix(content),
                        "the beginning of a JSON object: " + content);
            }
            count(body.path("usage"));
            JsonNode free = ok(post("/v1/chat/completions", chat("messages", messages, "max_tokens", 60, "temperature", 0)));
            String text = free.path("choices").path(0).path("message").path("content").asText();
            assertFalse(text.stripLeading().startsWith("{") && JsonPrefix.isPrefix(text),
                    "control: without json_object the random model's text is not JSON: " + text);
            count(free.path("usage"));
        }
    }

    @Test
    @Order(20)
    void embeddingsComeFromTheEmbeddingServerWithTheModelsWidth() {
        var r = post("/v1/embeddings", Map.of("model", EMBED, "input", List.of("hello", "world")));
        JsonNode body = ok(r);
        assertEquals("llama-embed", r.headers().firstValue("x-cleargate-backend").orElse(""));
        assertEquals(2, body.path("data").size(), body.toString());
        assertEquals(256, body.path("data").path(0).path("embedding").size(), "n_embd of the bundled model");
        assertEquals(1, body.path("data").path(1).path("index").asInt());
        assertTrue(body.path("usage").path("prompt_tokens").asInt() > 0, body.toString());
        tokensReported += body.path("usage").path("prompt_tokens").asLong();
        answered++;
        var chatModel = post("/v1/embeddings", Map.of("model", CHAT, "input", "hello"));
        assertEquals(400, chatModel.statusCode(), chatModel.body());
    }

    @Test
    @Order(21)
    void theUsageLedgerHoldsExactlyTheTokensLlamaServerReported() {
        JsonNode usage = ok(gateway.call("GET", "/admin/usage", KEY, null));
        long requests = 0;
        long tokens = 0;
        List<String> models = new ArrayList<>();
        for (JsonNode row : usage.path("by_model")) {
            if (row.path("model").asText().startsWith("llama-tiny")) {
                requests += row.path("requests").asLong();
                tokens += row.path("total_tokens").asLong();
                models.add(row.path("model").asText());
                assertEquals(0, row.path("estimated_requests").asLong(), row.toString());
            }
        }
        assertEquals(List.of(CHAT, EMBED), models);
        assertEquals(answered, requests, usage.toString());
        assertEquals(tokensReported, tokens, usage.toString());
        assertFalse(usage.path("data").isEmpty());
    }

    @Test
    @Order(22)
    void onceTheTenantsMonthlyBudgetIsUsedUpTheNextRequestIs429NamingItAndCostsNothing() throws Exception {
        long used = ok(gateway.call("GET", "/admin/usage", KEY, null)).path("total").path("total_tokens").asLong();
        Path file = opa.policies().resolve(TENANT_DATA);
        var settings = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(Files.readString(file));
        settings.set("budgets", JSON.valueToTree(List.of(Map.of("name", "interop-monthly-tokens", "scope", "tenant",
                "tokens", used))));
        var activated = gateway.call("POST", "/admin/policies/activate", KEY, JSON.writeValueAsString(Map.of(
                "files", Map.of(TENANT_DATA, JSON.writeValueAsString(settings)),
                "message", "interop: a budget the tenant has just used up")));
        assertEquals(200, activated.statusCode(), activated.body());

        var refused = post("/v1/chat/completions", chat());
        assertEquals(429, refused.statusCode(), refused.body());
        JsonNode error = read(refused.body()).path("error");
        assertEquals("budget_exceeded", error.path("code").asText());
        assertEquals("insufficient_quota", error.path("type").asText());
        assertTrue(error.path("message").asText().contains("'interop-monthly-tokens'"), error.toString());
        assertTrue(refused.headers().firstValue("Retry-After").isPresent());
        assertEquals(used, ok(gateway.call("GET", "/admin/usage", KEY, null)).path("total").path("total_tokens")
                .asLong(), "a refused request costs nothing");
        var listing = gateway.call("GET", "/v1/models", KEY, null);
        assertEquals(200, listing.statusCode(), "a used-up budget does not stop listing models");
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError(json, e);
        }
    }
}
