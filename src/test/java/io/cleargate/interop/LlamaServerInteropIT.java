package io.cleargate.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.LlamaServer;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
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
        Path data = Files.createTempDirectory("cleargate-interop-");
        chatServer = LlamaServer.start(binary, gguf, "tiny-gguf",
                List.of("--jinja", "--chat-template-file", template.toString()), data);
        embedServer = LlamaServer.start(binary, gguf, "tiny-gguf", List.of("--embeddings", "--pooling", "mean"), data);
        opa = OpaServer.start(Map.of());
        Map<String, String> props = new LinkedHashMap<>(PackagedGateway.governed(opa));
        props.put("cleargate.dev.create-key", "true");
        props.put("cleargate.dev.key", KEY);
        backend(props, "llama", chatServer.baseUrl(), "models", CHAT);
        backend(props, "llama-embed", embedServer.baseUrl(), "embedding-models", EMBED);
        gateway = PackagedGateway.start(data, props, Map.of());
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

    @Test
    @Order(6)
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
    @Order(7)
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
    @Order(8)
    void onceTheTenantsMonthlyBudgetIsUsedUpTheNextRequestIs429NamingItAndCostsNothing() throws Exception {
        long used = ok(gateway.call("GET", "/admin/usage", KEY, null)).path("total").path("total_tokens").asLong();
        Path file = opa.policies().resolve("cleargate/tenants/dev/data.json");
        var settings = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(Files.readString(file));
        settings.set("budgets", JSON.valueToTree(List.of(Map.of("name", "interop-monthly-tokens", "scope", "tenant",
                "tokens", used))));
        var activated = gateway.call("POST", "/admin/policies/activate", KEY, JSON.writeValueAsString(Map.of(
                "files", Map.of("cleargate/tenants/dev/data.json", JSON.writeValueAsString(settings)),
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
