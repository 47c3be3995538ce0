package io.cleargate.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.MockUpstreamResource;
import io.cleargate.testsupport.OpaTestResource;
import io.cleargate.testsupport.Sse;
import io.restassured.RestAssured;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.io.InputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(value = MockUpstreamResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = OpaTestResource.class, restrictToAnnotatedClass = true)
class ChatCompletionsTest {

    private static final String AUTH = "Bearer " + MockUpstreamResource.DEV_KEY;

    private static volatile boolean anonymous;

    /** Every request of this class carries the development key unless it sets its own or the test is anonymous. */
    @org.junit.jupiter.api.BeforeAll
    static void authenticateEveryRequest() {
        RestAssured.filters((request, response, context) -> {
            if (!anonymous && !request.getHeaders().hasHeaderWithName("Authorization")) {
                request.header("Authorization", AUTH);
            }
            return context.next(request, response);
        });
    }

    @org.junit.jupiter.api.AfterAll
    static void forgetCredentials() {
        RestAssured.replaceFiltersWith(java.util.List.of());
    }

    @Test
    void aRequestWithoutValidCredentialsIsA401InOpenAiShape() {
        int before = mock().requests();
        given().header("Authorization", "Basic Zm9vOmJhcg==")
                .contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions")
                .then().statusCode(401).body("error.type", equalTo("authentication_error"));
        anonymous = true;
        try {
            given().contentType(ContentType.JSON).body(HELLO).when().post("/v1/chat/completions").then().statusCode(401);
            given().when().get("/v1/models").then().statusCode(401).body("error.code", notNullValue());
        } finally {
            anonymous = false;
        }
        assertEquals(before, mock().requests(), "the engine was never called");
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HELLO = """
            {"model":"mock","messages":[{"role":"user","content":"hello"}]}""";

    @TestHTTPResource("/")
    URL base;

    private static MockUpstream mock() {
        return MockUpstreamResource.mock();
    }

    @AfterEach
    void resetMock() {
        mock().fault(MockUpstream.Fault.NONE).reply(null).echo(false).streaming(8, 0).choiceReplies(null);
    }

    @Test
    void nonStreamingCompletionHasOpenAiShapeAndRequestId() {
        given().contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions")
                .then().statusCode(200)
                .header("x-request-id", matchesPattern("[0-9a-f]{20,}"))
                .body("object", equalTo("chat.completion"))
                .body("choices[0].message.role", equalTo("assistant"))
                .body("choices[0].message.content", equalTo(MockUpstream.COMPLETION))
                .body("choices[0].finish_reason", equalTo("stop"))
                .body("usage.total_tokens", notNullValue());
    }

    @Test
    void contentPartsAreJoinedIntoOneText() {
        mock().echo(true);
        given().contentType(ContentType.JSON).body("""
                {"model":"mock","messages":[{"role":"user","content":[{"type":"text","text":"ab"},{"type":"text","text":"cd"}]}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(200).body("choices[0].message.content", equalTo("abcd"));
    }

    @Test
    void streamingCompletionSendsChunksUsageAndDone() throws Exception {
        String body = given().contentType(ContentType.JSON).body("""
                {"model":"mock","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(200).header("content-type", matchesPattern("text/event-stream.*"))
                .extract().asString();
        List<String> events = Sse.data(body);
        assertEquals("[DONE]", events.getLast());
        var text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String event : events.subList(0, events.size() - 1)) {
            JsonNode node = JSON.readTree(event);
            assertEquals("chat.completion.chunk", node.get("object").asText());
            if (node.get("choices").isEmpty()) {
                usage = node.get("usage");
                continue;
            }
            JsonNode choice = node.get("choices").get(0);
            text.append(choice.path("delta").path("content").asText(""));
            if (!choice.get("finish_reason").isNull()) {
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals(MockUpstream.COMPLETION, text.toString());
        assertEquals("stop", finish);
        assertTrue(usage != null && usage.get("completion_tokens").asInt() > 0, "usage chunk present");
    }

    /**
     * A stream served through every stage (on its virtual thread by default; EventLoopDispatchTest
     * covers the event loop): secrets split over many 3-char chunks reach the client exactly as the
     * whole answer's moderation leaves them, and the final audit record holds what the client got.
     */
    @Test
    void secretsSplitAcrossAStreamsChunksLeaveAsTheWholeAnswerLeavesThemAndAreAuditedSo() throws Exception {
        String reply = "Deploy it with AKIAIOSFODNN7EXAMPLE and write to jane.doe@example.com about it;"
                + " the rest of this answer is ordinary prose that should flow as it comes.";
        mock().reply(reply).streaming(reply.length() / 3, 0);
        JsonNode whole = JSON.readTree(given().contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions").then().statusCode(200).extract().asString());
        String wholeText = whole.at("/choices/0/message/content").asText();

        var response = given().contentType(ContentType.JSON).body("""
                {"model":"mock","stream":true,"messages":[{"role":"user","content":"hello"}]}""")
                .when().post("/v1/chat/completions");
        response.then().statusCode(200);
        var text = new StringBuilder();
        String finish = null;
        for (String data : Sse.data(response.asString())) {
            if (data.equals("[DONE]")) {
                continue;
            }
            JsonNode choice = JSON.readTree(data).path("choices").path(0);
            text.append(choice.path("delta").path("content").asText(""));
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals(wholeText, text.toString());
        assertEquals(whole.at("/choices/0/finish_reason").asText(), finish);
        for (String secret : List.of("AKIAIOSFODNN7EXAMPLE", "jane.doe@example.com")) {
            for (int i = 0; i + 6 <= secret.length(); i++) {
                assertFalse(text.toString().contains(secret.substring(i, i + 6)), "no fragment of " + secret + ": " + text);
            }
        }

        String requestId = response.header("x-request-id");
        long id = given().queryParam("request_id", requestId).when().get("/audit/records")
                .then().statusCode(200).extract().jsonPath().getLong("items[0].id");
        var detail = given().when().get("/audit/records/" + id).then().statusCode(200).extract().jsonPath();
        assertEquals(text.toString(), detail.getString("entries[1].content.text"), "the trail holds what the client got");
    }

    @jakarta.inject.Inject
    @jakarta.enterprise.inject.Any
    jakarta.enterprise.inject.Instance<io.cleargate.pipeline.Stage> stages;

    /**
     * What keeps a governed stream on the event loop: no stage waits on a chunk of text, and only
     * audit waits on the end (to make the final record durable), which then moves to a virtual thread.
     */
    @Test
    void noGovernanceStageWaitsOnAStreamedChunkOfTextAndOnlyAuditOnItsEnd() {
        var text = io.cleargate.pipeline.ResponseChunk.text("some text");
        var end = io.cleargate.pipeline.ResponseChunk.end("stop", null);
        int seen = 0;
        for (io.cleargate.pipeline.Stage stage : stages) {
            seen++;
            assertFalse(stage.blocksOn(text), stage.name() + " would take text chunks off the event loop");
            assertEquals(stage.name() == io.cleargate.pipeline.StageName.AUDIT, stage.blocksOn(end), stage.name().id());
        }
        assertEquals(io.cleargate.pipeline.StageOrder.ORDER.size(), seen, "every stage was asked");
    }

    @Test
    void malformedJsonIsA400InOpenAiShape() {
        given().contentType(ContentType.JSON).body("{\"model\": ")
                .when().post("/v1/chat/completions")
                .then().statusCode(400)
                .header("x-request-id", notNullValue())
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.code", equalTo("invalid_json"))
                .body("error.message", notNullValue())
                .body("error", org.hamcrest.Matchers.hasKey("param"));
    }

    @Test
    void missingMessagesNamesTheField() {
        given().contentType(ContentType.JSON).body("{\"model\":\"mock\"}")
                .when().post("/v1/chat/completions")
                .then().statusCode(400).body("error.param", equalTo("messages"));
    }

    private static final String WEATHER_TOOL = """
            {"type":"function","function":{"name":"get_weather","description":"Weather for a city",
             "parameters":{"type":"object","properties":{"query":{"type":"string"}}}}}""";

    @Test
    void toolsReachTheUpstreamInOpenAiShapeAndTheCallComesBack() throws Exception {
        String body = given().contentType(ContentType.JSON).body("""
                {"model":"mock","tools":[%s],"tool_choice":"required","parallel_tool_calls":false,
                 "messages":[{"role":"user","content":"weather in Lyon"}]}""".formatted(WEATHER_TOOL))
                .when().post("/v1/chat/completions")
                .then().statusCode(200)
                .body("choices[0].finish_reason", equalTo("tool_calls"))
                .body("choices[0].message.content", nullValue())
                .body("choices[0].message.tool_calls[0].type", equalTo("function"))
                .body("choices[0].message.tool_calls[0].function.name", equalTo("get_weather"))
                .extract().asString();
        JsonNode call = JSON.readTree(body).at("/choices/0/message/tool_calls/0");
        assertEquals("weather in Lyon", JSON.readTree(call.at("/function/arguments").asText()).get("query").asText());
        JsonNode sent = JSON.readTree(mock().lastBody());
        assertEquals("get_weather", sent.at("/tools/0/function/name").asText());
        assertEquals("object", sent.at("/tools/0/function/parameters/type").asText(), "the schema is passed as sent");
        assertEquals("required", sent.get("tool_choice").asText());
        assertFalse(sent.get("parallel_tool_calls").asBoolean());
    }

    @Test
    void aToolResultConversationReachesTheUpstreamWithCallsAndIds() throws Exception {
        given().contentType(ContentType.JSON).body("""
                {"model":"mock","tools":[%s],"messages":[{"role":"user","content":"weather?"},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function",
                    "function":{"name":"get_weather","arguments":"{\\"query\\":\\"Oslo\\"}"}}]},
                  {"role":"tool","tool_call_id":"call_9","content":"snow"}]}""".formatted(WEATHER_TOOL))
                .when().post("/v1/chat/completions")
                .then().statusCode(200).body("choices[0].message.content", equalTo("Tool result: snow"));
        JsonNode sent = JSON.readTree(mock().lastBody());
        assertTrue(sent.at("/messages/1/content").isNull(), "an assistant turn that only calls tools has null content");
        assertEquals("call_9", sent.at("/messages/1/tool_calls/0/id").asText());
        assertEquals("{\"query\":\"Oslo\"}", sent.at("/messages/1/tool_calls/0/function/arguments").asText());
        assertEquals("call_9", sent.at("/messages/2/tool_call_id").asText());
    }

    @Test
    void streamedToolCallsArriveAsIndexedDeltasAndTheAuditRecordHoldsThem() throws Exception {
        var response = given().contentType(ContentType.JSON).body("""
                {"model":"mock","stream":true,"tools":[%s],"messages":[{"role":"user","content":"weather in Rome"}]}"""
                .formatted(WEATHER_TOOL))
                .when().post("/v1/chat/completions");
        response.then().statusCode(200);
        StringBuilder arguments = new StringBuilder();
        String name = null;
        String finish = null;
        for (String data : Sse.data(response.asString())) {
            if (data.equals("[DONE]")) {
                continue;
            }
            JsonNode event = JSON.readTree(data);
            JsonNode choice = event.path("choices").path(0);
            for (JsonNode call : choice.path("delta").path("tool_calls")) {
                assertEquals(0, call.get("index").asInt());
                if (call.at("/function/name").isTextual()) {
                    name = call.at("/function/name").asText();
                }
                arguments.append(call.at("/function/arguments").asText(""));
            }
            if (choice.hasNonNull("finish_reason")) {
                finish = choice.get("finish_reason").asText();
            }
        }
        assertEquals("get_weather", name);
        assertEquals("tool_calls", finish);
        assertEquals("weather in Rome", JSON.readTree(arguments.toString()).get("query").asText());

        String requestId = response.header("x-request-id");
        var records = given().queryParam("request_id", requestId).when().get("/audit/records")
                .then().statusCode(200).extract().jsonPath();
        long id = records.getLong("items[0].id");
        JsonNode detail = JSON.readTree(given().when().get("/audit/records/" + id).then().statusCode(200)
                .extract().asString());
        JsonNode finalEntry = null;
        for (JsonNode entry : detail.get("entries")) {
            if ("final".equals(entry.at("/body/kind").asText())) {
                finalEntry = entry;
            }
        }
        assertNotNull(finalEntry, "the request has a final record");
        assertEquals("get_weather", finalEntry.at("/body/tool_calls/0/name").asText());
        assertEquals(List.of("get_weather"), JSON.convertValue(finalEntry.at("/body/parameters/tools"), List.class));
        String content = finalEntry.get("content").isTextual() ? finalEntry.get("content").asText()
                : finalEntry.get("content").toString();
        assertTrue(content.contains("weather in Rome"), "the call's arguments are kept as content: " + content);
    }

    @Test
    void embeddingsAreServedUnderTheUpstreamsModelName() throws Exception {
        String body = given().contentType(ContentType.JSON).body("""
                {"model":"mock-embed","input":["alpha","beta"]}""")
                .when().post("/v1/embeddings")
                .then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data.size()", equalTo(2))
                .body("data[1].index", equalTo(1))
                .body("model", equalTo("mock-embed"))
                .extract().asString();
        assertEquals(8, JSON.readTree(body).at("/data/0/embedding").size());
        JsonNode sent = JSON.readTree(mock().lastBody());
        assertEquals("mock-embedder-v1", sent.get("model").asText(), "the backend's served name, not the gateway's id");
        assertEquals("float", sent.get("encoding_format").asText());
        given().contentType(ContentType.JSON).body("""
                {"model":"mock","input":"x"}""")
                .when().post("/v1/embeddings")
                .then().statusCode(400).body("error.param", equalTo("model"));
    }

    @Test
    void aRequestCannotChooseItsUpstream() {
        int before = mock().requests();
        given().contentType(ContentType.JSON).body("""
                {"model":"mock","api_base":"http://169.254.169.254/","messages":[{"role":"user","content":"x"}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(400).body("error.param", equalTo("api_base"));
        assertEquals(before, mock().requests(), "nothing was sent upstream");
    }

    @Test
    void outOfRangeTemperatureIsRejected() {
        given().contentType(ContentType.JSON).body("""
                {"model":"mock","temperature":3,"messages":[{"role":"user","content":"x"}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(400).body("error.param", equalTo("temperature"));
    }

    @Test
    void unknownModelIs404ModelNotFound() {
        given().contentType(ContentType.JSON).body("""
                {"model":"nope","messages":[{"role":"user","content":"x"}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(404).body("error.code", equalTo("model_not_found")).body("error.param", equalTo("model"));
    }

    @Test
    void bodyOverTheLimitIs413() {
        String big = "x".repeat(70_000);
        given().contentType(ContentType.JSON).body("{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":\"" + big + "\"}]}")
                .when().post("/v1/chat/completions")
                .then().statusCode(413).body("error.code", equalTo("request_too_large"));
    }

    @Test
    void declaredOversizedBodyIsRefusedBeforeItIsSent() throws Exception {
        try (var socket = new Socket(base.getHost(), base.getPort())) {
            String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 999999999\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.setSoTimeout(5000);
            String response = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 413", response);
        }
    }

    @Test
    void upstreamErrorBecomesA503NamingTheCauseWithoutItsBody() {
        mock().fault(MockUpstream.Fault.STATUS_500);
        given().contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions")
                .then().statusCode(503)
                .body("error.code", equalTo("no_eligible_backend"))
                .body("error.last_error_code", equalTo("upstream_unavailable"))
                .body("error.message", org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("mock failure")));
    }

    @Test
    void silentUpstreamTimesOutAndIsReported() {
        mock().fault(MockUpstream.Fault.HANG);
        given().contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions")
                .then().statusCode(503).body("error.last_error_code", equalTo("upstream_timeout"));
    }

    @Test
    void upstreamDyingMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
        mock().fault(MockUpstream.Fault.DIE_MID_STREAM).streaming(8, 5);
        String body = given().contentType(ContentType.JSON).body("""
                {"model":"mock","stream":true,"messages":[{"role":"user","content":"hi"}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(200).extract().asString();
        List<String> events = Sse.data(body);
        JsonNode last = JSON.readTree(events.getLast());
        assertTrue(last.has("error"), "last event is an error: " + events.getLast());
        assertTrue(!events.contains("[DONE]"), "no [DONE] after a failure");
    }

    @Test
    void oversizedUpstreamResponseIsCutOff() throws Exception {
        mock().fault(MockUpstream.Fault.ENDLESS);
        String body = given().contentType(ContentType.JSON).body("""
                {"model":"mock","stream":true,"messages":[{"role":"user","content":"hi"}]}""")
                .when().post("/v1/chat/completions")
                .then().statusCode(200).extract().asString();
        JsonNode last = JSON.readTree(Sse.data(body).getLast());
        assertEquals("upstream_response_too_large", last.path("error").path("code").asText());
    }

    @Test
    void clientDisconnectCancelsTheUpstreamRequest() throws Exception {
        // An endless stream of text, so output moderation keeps releasing and the client sees bytes.
        mock().fault(MockUpstream.Fault.ENDLESS).streaming(1, 5);
        int abortedBefore = mock().aborted();
        try (var socket = new Socket(base.getHost(), base.getPort())) {
            String payload = "{\"model\":\"mock\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            String request = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: " + AUTH + "\r\n"
                    + "Content-Length: " + payload.length() + "\r\n\r\n" + payload;
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            socket.setSoTimeout(5000);
            String start = new String(in.readNBytes(200), StandardCharsets.UTF_8);
            assertTrue(start.startsWith("HTTP/1.1 200"), start);
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (mock().aborted() == abortedBefore && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(mock().aborted() > abortedBefore, "the upstream saw the request cancelled");
    }

    @Test
    void modelsAreListedAndLookedUp() {
        given().when().get("/v1/models")
                .then().statusCode(200).body("object", equalTo("list")).body("data.id", hasItem("mock"));
        given().when().get("/v1/models/mock").then().statusCode(200).body("id", equalTo("mock"));
        given().when().get("/v1/models/unknown").then().statusCode(404).body("error.code", equalTo("model_not_found"));
    }

    @Test
    void healthEndpointsAlsoCarryARequestId() {
        given().when().get("/q/health/live").then().header("x-request-id", notNullValue());
    }

    @Test
    void readinessFollowsTheBackendsHealth() throws InterruptedException {
        // Readiness reads the router's view, refreshed by active probes: wait for each to be seen.
        assertTrue(readinessBecomes(200), "ready while the backend answers");
        mock().fault(MockUpstream.Fault.STATUS_500);
        assertTrue(readinessBecomes(503), "not ready once the only backend fails its probe");
        mock().fault(MockUpstream.Fault.NONE);
        assertTrue(readinessBecomes(200), "ready again when it recovers");
    }

    private static boolean readinessBecomes(int status) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            if (given().when().get("/q/health/ready").statusCode() == status) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    @Test
    void metricsCountRequestsTokensModerationAndAuditWritesByTenant() {
        mock().reply("mail me at someone@example.com");
        given().contentType(ContentType.JSON).body(HELLO).when().post("/v1/chat/completions").then().statusCode(200);
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.matches("(?s).*cleargate_requests_total\\{[^}]*tenant=\"dev\"[^}]*\\} [1-9].*"), "requests by tenant");
        assertTrue(metrics.matches("(?s).*cleargate_tokens_total\\{[^}]*direction=\"completion\"[^}]*\\} [1-9].*"), "tokens");
        assertTrue(metrics.matches("(?s).*cleargate_moderation_actions_total\\{[^}]*action=\"redact\"[^}]*category=\"pii.email\"[^}]*\\} [1-9].*"),
                "moderation actions by category");
        assertTrue(metrics.contains("cleargate_audit_write_seconds_count"), "audit write latency");
        assertTrue(metrics.contains("cleargate_audit_backlog"), "audit backlog");
        assertTrue(metrics.contains("cleargate_backend_up{"), "backend health");
        assertFalse(metrics.contains("someone@example.com"), "no text in metrics");
    }

    @Test
    void wrongMethodIsAnOpenAiShaped405() {
        given().when().get("/v1/chat/completions").then().statusCode(405).body("error.code", equalTo("method_not_allowed"))
                .body("error.param", nullValue());
    }

    // --- several choices (n > 1): passed to the upstream, each choice moderated and released on its own

    private static final String PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw"
            + "\n-----END RSA PRIVATE KEY-----";

    private static String twoChoices(boolean stream) {
        return """
                {"model":"mock","n":2,"stream":%s,"messages":[{"role":"user","content":"hello"}]}""".formatted(stream);
    }

    /** index → [text, finish_reason] of a streamed answer. */
    private static java.util.Map<Integer, String[]> streamedChoices(String body) throws Exception {
        var out = new java.util.TreeMap<Integer, String[]>();
        List<String> events = Sse.data(body);
        assertEquals("[DONE]", events.getLast());
        for (String event : events.subList(0, events.size() - 1)) {
            for (JsonNode choice : JSON.readTree(event).path("choices")) {
                String[] acc = out.computeIfAbsent(choice.get("index").asInt(), k -> new String[] {"", null});
                acc[0] += choice.path("delta").path("content").asText("");
                if (!choice.path("finish_reason").isNull()) {
                    assertEquals(null, acc[1], "one finish_reason per choice");
                    acc[1] = choice.get("finish_reason").asText();
                }
            }
        }
        return out;
    }

    @Test
    void severalChoicesArePassedToTheUpstreamAndComeBackWithTheirIndexes() throws Exception {
        String requestId = given().contentType(ContentType.JSON).body(twoChoices(false))
                .when().post("/v1/chat/completions")
                .then().statusCode(200)
                .body("choices.size()", equalTo(2))
                .body("choices[0].index", equalTo(0)).body("choices[1].index", equalTo(1))
                .body("choices[0].message.content", equalTo(MockUpstream.COMPLETION))
                .body("choices[1].message.content", equalTo(MockUpstream.COMPLETION))
                .body("choices[1].finish_reason", equalTo("stop"))
                .extract().header("x-request-id");
        assertTrue(mock().lastBody().contains("\"n\":2"), mock().lastBody());
        // The upstream reported one usage for both: the final record splits it, marked as an estimate.
        long id = given().queryParam("request_id", requestId).when().get("/audit/records")
                .then().statusCode(200).extract().jsonPath().getLong("items[0].id");
        JsonNode detail = JSON.readTree(given().when().get("/audit/records/" + id).then().statusCode(200)
                .extract().asString());
        JsonNode finalBody = null;
        for (JsonNode entry : detail.get("entries")) {
            if ("final".equals(entry.at("/body/kind").asText())) {
                finalBody = entry.get("body");
            }
        }
        assertNotNull(finalBody, detail.toString());
        JsonNode split = finalBody.path("choice_usage");
        assertTrue(split.path("estimated").asBoolean(), finalBody.toString());
        long total = finalBody.at("/usage/completion_tokens").asLong();
        assertTrue(total > 0, finalBody.toString());
        assertEquals(2, split.path("choices").size());
        assertEquals(total, split.at("/choices/0/completion_tokens").asLong() + split.at("/choices/1/completion_tokens").asLong());
        assertTrue(Math.abs(split.at("/choices/0/completion_tokens").asLong()
                - split.at("/choices/1/completion_tokens").asLong()) <= 1, "two equal answers, equal shares: " + split);

        String body = given().contentType(ContentType.JSON).body(twoChoices(true))
                .when().post("/v1/chat/completions").then().statusCode(200).extract().asString();
        var choices = streamedChoices(body);
        assertEquals(java.util.Set.of(0, 1), choices.keySet());
        for (String[] c : choices.values()) {
            assertEquals(MockUpstream.COMPLETION, c[0]);
            assertEquals("stop", c[1]);
        }
    }

    @Test
    void eachChoiceIsModeratedOnItsOwnAndABlockEndsOnlyItsChoice() throws Exception {
        mock().choiceReplies(List.of("Nothing to hide here.", "Write to alice@example.com today."));
        given().contentType(ContentType.JSON).body(twoChoices(false))
                .when().post("/v1/chat/completions")
                .then().statusCode(200)
                .body("choices[0].message.content", equalTo("Nothing to hide here."))
                .body("choices[1].message.content", equalTo("Write to [EMAIL_1] today."));

        mock().choiceReplies(List.of("Nothing to hide here.", "The key: " + PEM + " done."));
        for (boolean stream : List.of(false, true)) {
            String body = given().contentType(ContentType.JSON).body(twoChoices(stream))
                    .when().post("/v1/chat/completions").then().statusCode(200).extract().asString();
            assertFalse(body.contains("BEGIN RSA PRIVATE KEY"), body);
            if (stream) {
                var choices = streamedChoices(body);
                assertEquals("Nothing to hide here.", choices.get(0)[0]);
                assertEquals("stop", choices.get(0)[1]);
                assertEquals("content_filter", choices.get(1)[1]);
            } else {
                JsonNode json = JSON.readTree(body);
                assertEquals("Nothing to hide here.", json.at("/choices/0/message/content").asText());
                assertEquals("stop", json.at("/choices/0/finish_reason").asText());
                assertEquals("content_filter", json.at("/choices/1/finish_reason").asText());
            }
        }
    }

    @Test
    void aChoiceCountOutsideOneToEightIsRefusedNamingN() {
        for (String n : List.of("0", "9", "1.5", "\"2\"")) {
            given().contentType(ContentType.JSON).body("""
                    {"model":"mock","n":%s,"messages":[{"role":"user","content":"hello"}]}""".formatted(n))
                    .when().post("/v1/chat/completions")
                    .then().statusCode(400).body("error.param", equalTo("n"));
        }
        given().contentType(ContentType.JSON).body("""
                {"model":"mock","n":1,"messages":[{"role":"user","content":"hello"}]}""")
                .when().post("/v1/chat/completions").then().statusCode(200).body("choices.size()", equalTo(1));
    }
}
