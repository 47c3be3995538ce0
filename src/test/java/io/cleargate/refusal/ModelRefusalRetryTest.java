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
import io.cleargate.testsupport.Sse;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A tenant whose policy retries the model's refusals (the development tenant's data.json with
 * {@code "model_refusal": {"action": "retry"}}, decided by a real OPA): a scripted upstream that
 * deflects like DeepSeek, another that answers, and one abroad that the tenant may never use.
 */
@QuarkusTest
@QuarkusTestResource(value = RetryingBackendsResource.class, restrictToAnnotatedClass = true)
class ModelRefusalRetryTest {

    private static final String AUTH = "Bearer " + MockUpstreamResource.DEV_KEY;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CANNED = ModelRefusalTest.CANNED_EN;
    private static final String ANSWER = "In June 1989 the army cleared the square; hundreds of people were killed.";

    private static MockUpstream first() {
        return RetryingBackendsResource.mock("first");
    }

    private static MockUpstream second() {
        return RetryingBackendsResource.mock("second");
    }

    private static MockUpstream abroad() {
        return RetryingBackendsResource.mock("abroad");
    }

    @AfterEach
    void reset() {
        for (MockUpstream m : RetryingBackendsResource.MOCKS.values()) {
            m.censor("Tiananmen", null).reply(null).streaming(8, 0).resetCounts();
        }
    }

    private static Response chat(String prompt, boolean stream) {
        String body = "{\"model\":\"mock\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
        return given().header("Authorization", AUTH).contentType(ContentType.JSON).body(body)
                .when().post("/v1/chat/completions").then().statusCode(200).extract().response();
    }

    private static JsonNode finalRecord(String requestId) throws Exception {
        JsonNode page = JSON.readTree(given().header("Authorization", AUTH).queryParam("request_id", requestId)
                .queryParam("kind", "final").when().get("/audit/records").then().statusCode(200).extract().asString());
        long id = page.at("/items/0/id").asLong();
        JsonNode detail = JSON.readTree(given().header("Authorization", AUTH).when().get("/audit/records/" + id)
                .then().statusCode(200).extract().asString());
        for (JsonNode e : detail.get("entries")) {
            if ("final".equals(e.get("kind").asText())) {
                return e.get("body");
            }
        }
        throw new AssertionError("no final record for " + requestId);
    }

    @Test
    void aDeflectedAnswerIsAskedAgainOfAnotherBackendInTheTenantsRegionAndBothAttemptsAreAudited() throws Exception {
        first().censor("Tiananmen", CANNED);
        second().reply(ANSWER);
        abroad().reply(ANSWER);
        Response r = chat("What happened at Tiananmen Square in 1989?", false);
        JsonNode body = JSON.readTree(r.asString());
        assertEquals(ANSWER, body.at("/choices/0/message/content").asText(), "the caller gets the other backend's answer");
        assertEquals("second", r.header("x-cleargate-backend"));
        assertEquals(1, first().requestsContaining("Tiananmen"));
        assertEquals(1, second().requestsContaining("Tiananmen"));
        assertEquals(0, abroad().requests(), "a retry never leaves the tenant's regions and jurisdiction");

        JsonNode verdict = body.get(RefusalSummary.EXTENSION);
        assertEquals("none", verdict.get("kind").asText());
        assertEquals("retry", verdict.get("action").asText());
        assertEquals("retried", verdict.at("/retry/outcome").asText());
        assertEquals("first", verdict.at("/retry/earlier/0/backend").asText());
        assertEquals("deflection", verdict.at("/retry/earlier/0/kind").asText());
        assertTrue(r.header(RefusalSummary.HEADER).contains("retry=retried; retried_from=first"), r.header(RefusalSummary.HEADER));

        JsonNode audited = finalRecord(r.header("x-request-id"));
        assertEquals("second", audited.at("/route/backend").asText());
        assertEquals("retried", audited.at("/model_refusal/retry").asText());
        assertEquals("first", audited.at("/model_refusal/attempts/0/backend").asText());
        assertEquals("deflection", audited.at("/model_refusal/attempts/0/verdict/kind").asText());
        assertEquals("en.canned", audited.at("/model_refusal/attempts/0/verdict/cue").asText(), audited.toString());
        assertFalse(audited.toString().contains("beyond my current scope"), "verdicts, never the discarded text");

        for (String action : List.of("retried", "deflection")) {
            JsonNode found = JSON.readTree(given().header("Authorization", AUTH).queryParam("category", "model-refusal")
                    .queryParam("action", action).queryParam("request_id", r.header("x-request-id"))
                    .when().get("/audit/records").then().statusCode(200).extract().asString());
            assertEquals(1, found.get("items").size(), "searchable as model-refusal:" + action);
        }
        JsonNode verify = JSON.readTree(given().header("Authorization", AUTH).queryParam("tenant", "dev")
                .when().get("/audit/verify").then().statusCode(200).extract().asString());
        assertTrue(verify.get("ok").asBoolean(), verify.toString());

        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("cleargate_model_answers_total{")
                && l.contains("backend=\"first\"") && l.contains("kind=\"deflection\"")), "the discarded answer counts for its backend");
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("cleargate_model_refusal_retries_total{")
                && l.contains("outcome=\"retried\"")));
    }

    @Test
    void aStreamedDeflectionIsHeldBackAndOnlyTheOtherBackendsAnswerIsStreamed() throws Exception {
        first().censor("Tiananmen", CANNED).streaming(6, 0);
        second().reply(ANSWER).streaming(6, 0);
        List<String> events = Sse.data(chat("Tiananmen 1989?", true).asString());
        assertEquals("[DONE]", events.getLast());
        assertEquals(1, events.stream().filter("[DONE]"::equals).count());
        var text = new StringBuilder();
        JsonNode verdict = null;
        for (String event : events.subList(0, events.size() - 1)) {
            JsonNode node = JSON.readTree(event);
            text.append(node.at("/choices/0/delta/content").asText(""));
            if (node.has(RefusalSummary.EXTENSION)) {
                verdict = node.get(RefusalSummary.EXTENSION);
            }
        }
        assertEquals(ANSWER, text.toString(), "not a byte of the deflection reached the client");
        assertNotNull(verdict);
        assertEquals("retried", verdict.at("/retry/outcome").asText());
        assertEquals("first", verdict.at("/retry/earlier/0/backend").asText());
    }

    @Test
    void whenBothBackendsDeflectTheAnswerIsFlaggedAfterOneRetry() throws Exception {
        first().censor("Tiananmen", CANNED);
        second().censor("Tiananmen", CANNED);
        Response r = chat("Tiananmen?", false);
        JsonNode verdict = JSON.readTree(r.asString()).get(RefusalSummary.EXTENSION);
        assertEquals("deflection", verdict.get("kind").asText());
        assertTrue(verdict.get("flagged").asBoolean());
        assertTrue(verdict.get("notice").asText().contains("not your organisation's content filter"));
        assertEquals(2, first().requests() + second().requests(), "bounded: one retry");
        JsonNode audited = finalRecord(r.header("x-request-id"));
        assertTrue(audited.at("/model_refusal/flagged").asBoolean());
    }

    @Test
    void aStreamThatWentOutBeforeTheRefusalWasKnownIsFlaggedNotRetried() throws Exception {
        String partial = "I can't give legal advice, but here is how deposits generally work. "
                + "The landlord must return the deposit within the period the law sets, minus documented damage. ".repeat(12);
        first().censor("Tiananmen", partial).streaming(20, 0);
        List<String> events = Sse.data(chat("Tiananmen deposit?", true).asString());
        JsonNode verdict = null;
        for (String event : events.subList(0, events.size() - 1)) {
            JsonNode node = JSON.readTree(event);
            if (node.has(RefusalSummary.EXTENSION)) {
                verdict = node.get(RefusalSummary.EXTENSION);
            }
        }
        assertNotNull(verdict);
        assertEquals("partial", verdict.get("kind").asText());
        assertEquals("already_released", verdict.at("/retry/outcome").asText());
        assertTrue(verdict.get("flagged").asBoolean());
        assertEquals(0, second().requests(), "released text cannot be taken back");
    }

    @Test
    void anOrdinaryAnswerCostsNoSecondRequest() throws Exception {
        Response r = chat("hello", false);
        JsonNode verdict = JSON.readTree(r.asString()).get(RefusalSummary.EXTENSION);
        assertEquals("none", verdict.get("kind").asText());
        assertFalse(verdict.has("retry"));
        assertEquals(1, first().requests() + second().requests());
    }
}
