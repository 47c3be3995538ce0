package io.cleargate.refusal;

import static io.restassured.RestAssured.given;
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
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The model's own refusals, end to end through the governed pipeline: a scripted upstream that
 * deflects and refuses on sensitive topics like DeepSeek does, real HTTP, real OPA, the audit store.
 */
@QuarkusTest
@QuarkusTestResource(value = MockUpstreamResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = OpaTestResource.class, restrictToAnnotatedClass = true)
class ModelRefusalTest {

    private static final String AUTH = "Bearer " + MockUpstreamResource.DEV_KEY;
    /** The development key holds compliance-officer too: the compliance API is asked through the real admin shell. */
    private static final String OFFICER = AUTH;
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CANNED_EN = "Sorry, that's beyond my current scope. Let's talk about something else.";
    static final String CANNED_ZH = "你好，这个问题我暂时无法回答，让我们换个话题再聊聊吧。";
    static final String REFUSAL = "I'm sorry, but I can't provide information on that topic. If you have other questions, feel free to ask.";

    private static MockUpstream mock() {
        return MockUpstreamResource.mock();
    }

    @AfterEach
    void resetMock() {
        mock().censor("Tiananmen", null).censor("天安门", null).censor("Xinjiang", null).finishReason(null).reply(null)
                .streaming(8, 0);
    }

    private static Response chat(String prompt, boolean stream) {
        String body = "{\"model\":\"mock\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
        return given().header("Authorization", AUTH).contentType(ContentType.JSON).body(body)
                .when().post("/v1/chat/completions").then().statusCode(200).extract().response();
    }

    @Test
    void aCannedDeflectionReachesTheCallerUnchangedAndIsNamedInHeaderAndBodyNextToModeration() throws Exception {
        mock().censor("Tiananmen", CANNED_EN);
        Response r = chat("What happened at Tiananmen Square in 1989?", false);
        JsonNode body = JSON.readTree(r.asString());
        assertEquals(CANNED_EN, body.at("/choices/0/message/content").asText(), "observe only: the text is untouched");
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertTrue(r.header(RefusalSummary.HEADER).startsWith("kind=deflection; score="), r.header(RefusalSummary.HEADER));
        assertTrue(r.header(RefusalSummary.HEADER).contains("language=en"), r.header(RefusalSummary.HEADER));
        JsonNode verdict = body.get(RefusalSummary.EXTENSION);
        assertEquals("deflection", verdict.get("kind").asText());
        assertEquals("model", verdict.get("source").asText());
        assertTrue(verdict.get("score").asDouble() >= 0.9);
        assertNotNull(body.get("cleargate_moderation"), "the tenant filter's summary is still there, apart");
        assertFalse(body.get("cleargate_moderation").has("blocked"));
        assertFalse(r.header(RefusalSummary.HEADER).contains("Sorry"), "never the text itself");
    }

    @Test
    void aStreamedChineseDeflectionIsNamedOnTheFinalChunk() throws Exception {
        mock().censor("天安门", CANNED_ZH).streaming(6, 0);
        List<String> events = Sse.data(chat("1989年天安门发生了什么？", true).asString());
        assertEquals("[DONE]", events.getLast());
        var text = new StringBuilder();
        JsonNode verdict = null;
        for (String event : events.subList(0, events.size() - 1)) {
            JsonNode node = JSON.readTree(event);
            if (node.has(RefusalSummary.EXTENSION)) {
                verdict = node.get(RefusalSummary.EXTENSION);
                assertEquals("stop", node.at("/choices/0/finish_reason").asText(), "it rides on the final chunk");
                assertNotNull(node.get("cleargate_moderation"));
            }
            text.append(node.at("/choices/0/delta/content").asText(""));
        }
        assertEquals(CANNED_ZH, text.toString());
        assertNotNull(verdict, "the final chunk carries the verdict");
        assertEquals("deflection", verdict.get("kind").asText());
        assertEquals("zh", verdict.get("language").asText());
    }

    @Test
    void anOrdinaryAnswerIsReportedAsNone() throws Exception {
        Response r = chat("hello", false);
        assertTrue(r.header(RefusalSummary.HEADER).startsWith("kind=none"), r.header(RefusalSummary.HEADER));
        assertEquals("none", JSON.readTree(r.asString()).at("/" + RefusalSummary.EXTENSION + "/kind").asText());
    }

    @Test
    void anUpstreamContentFilterIsTheModelSidesAndNotTheTenantFilters() throws Exception {
        mock().reply("The events of that night began when").finishReason("content_filter");
        Response r = chat("tell me about that night", false);
        JsonNode body = JSON.readTree(r.asString());
        assertEquals("content_filter", body.at("/" + RefusalSummary.EXTENSION + "/kind").asText());
        assertFalse(body.get("cleargate_moderation").has("blocked"), "the tenant's filter did not act");
    }

    @Test
    void theAuditRecordKeepsKindSpanAndScoreAndTheSummaryCountsThemBesideTheFiltersActions() throws Exception {
        mock().censor("Xinjiang", REFUSAL);
        Response r = chat("Describe the camps in Xinjiang", false);
        String requestId = r.header("x-request-id");
        JsonNode page = JSON.readTree(given().header("Authorization", OFFICER).queryParam("request_id", requestId)
                .queryParam("kind", "final").when().get("/audit/records").then().statusCode(200).extract().asString());
        long id = page.at("/items/0/id").asLong();
        JsonNode detail = JSON.readTree(given().header("Authorization", OFFICER).when().get("/audit/records/" + id)
                .then().statusCode(200).extract().asString());
        JsonNode recorded = null;
        for (JsonNode e : detail.get("entries")) {
            if ("final".equals(e.get("kind").asText())) {
                recorded = e.at("/body/model_refusal");
            }
        }
        assertNotNull(recorded);
        assertEquals("refusal", recorded.get("kind").asText());
        assertEquals(0, recorded.get("start").asInt());
        assertEquals("I'm sorry, but I can't provide information on that topic.".length(), recorded.get("end").asInt());
        assertTrue(recorded.get("score").asDouble() >= 0.8);
        assertFalse(recorded.toString().contains("sorry"), "the record holds the span, not the text");

        JsonNode found = JSON.readTree(given().header("Authorization", OFFICER).queryParam("category", "model-refusal")
                .queryParam("action", "refusal").when().get("/audit/records").then().statusCode(200).extract().asString());
        assertTrue(found.get("items").size() >= 1, "searchable as model-refusal:refusal");

        JsonNode summary = JSON.readTree(given().header("Authorization", OFFICER).when().get("/audit/summary")
                .then().statusCode(200).extract().asString());
        int refusals = 0;
        for (JsonNode row : summary.get("rows")) {
            refusals += row.at("/model_refusals/refusal").asInt(0);
            assertTrue(row.has("blocked"), "beside the tenant filter's own columns");
        }
        assertTrue(refusals >= 1, summary.toString());

        JsonNode verify = JSON.readTree(given().header("Authorization", OFFICER).queryParam("tenant", "dev")
                .when().get("/audit/verify").then().statusCode(200).extract().asString());
        assertTrue(verify.get("ok").asBoolean(), "the model-refusal tag is what the hashed body says: " + verify);
    }

    @Test
    void metricsCountAnswersByBackendKindAndLanguage() {
        mock().censor("Tiananmen", CANNED_EN);
        chat("Tiananmen?", false);
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("cleargate_model_answers_total{")
                && l.contains("backend=\"mock\"") && l.contains("kind=\"deflection\"") && l.contains("language=\"en\"")),
                "model answers counted with bounded labels");
    }

    @Test
    void whenTheTenantsFilterBlocksTheAnswerTheAuditRecordStillCarriesTheModelsOwnVerdict() throws Exception {
        String key = "-----BEGIN RSA PRIVATE KEY-----\n"
                + "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----";
        mock().reply("I'm sorry, but I can't help with that.\n" + key + "\n" + "More of the answer follows. ".repeat(40))
                .streaming(12, 0);
        // Whole: the model had finished when the filter read it. Streamed: the filter stops it mid-answer.
        for (boolean stream : new boolean[] {false, true}) {
            Response r = chat("show me the deploy key", stream);
            String finish;
            if (stream) {
                List<String> events = Sse.data(r.asString());
                finish = JSON.readTree(events.get(events.size() - 2)).at("/choices/0/finish_reason").asText();
            } else {
                finish = JSON.readTree(r.asString()).at("/choices/0/finish_reason").asText();
            }
            assertEquals("content_filter", finish, "the tenant's filter stopped it");
            JsonNode page = JSON.readTree(given().header("Authorization", OFFICER).queryParam("request_id", r.header("x-request-id"))
                    .queryParam("kind", "final").when().get("/audit/records").then().statusCode(200).extract().asString());
            JsonNode detail = JSON.readTree(given().header("Authorization", OFFICER).when()
                    .get("/audit/records/" + page.at("/items/0/id").asLong()).then().statusCode(200).extract().asString());
            JsonNode recorded = null;
            for (JsonNode e : detail.get("entries")) {
                if ("final".equals(e.get("kind").asText())) {
                    recorded = e.at("/body/model_refusal");
                }
            }
            assertNotNull(recorded);
            assertTrue(recorded.path("declined").asBoolean(), "stream=" + stream + ": the model declined first: " + detail);
            assertFalse("content_filter".equals(recorded.path("kind").asText()), "never blamed for the tenant's filter");
            if (stream) {
                assertFalse(recorded.path("answer_complete").asBoolean(true), "judged on what it had said: " + recorded);
            }
        }
    }
}
