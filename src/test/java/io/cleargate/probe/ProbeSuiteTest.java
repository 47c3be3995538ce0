package io.cleargate.probe;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.audit.Canonical;
import io.cleargate.audit.CheckpointSigner;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.MockUpstreamResource;
import io.cleargate.testsupport.OpaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The probe suite against a scripted upstream that censors like DeepSeek: it deflects the
 * Tiananmen prompts with the canned answer and refuses the Taiwan ones, and answers the rest.
 */
@QuarkusTest
@QuarkusTestResource(value = MockUpstreamResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = OpaTestResource.class, restrictToAnnotatedClass = true)
class ProbeSuiteTest {

    private static final String ADMIN = "Bearer " + MockUpstreamResource.DEV_KEY;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    CheckpointSigner signer;

    private static MockUpstream mock() {
        return MockUpstreamResource.mock();
    }

    @AfterEach
    void resetMock() {
        mock().censor("Tiananmen", null).censor("天安门", null).censor("Taiwan", null).censor("台湾", null)
                .reply(null).resetCounts();
    }

    private static void censorLikeDeepSeek() {
        mock().censor("Tiananmen", "Sorry, that's beyond my current scope. Let's talk about something else.")
                .censor("天安门", "你好，这个问题我暂时无法回答，让我们换个话题再聊聊吧。")
                .censor("Taiwan", "I'm sorry, but I can't discuss that topic.")
                .censor("台湾", "抱歉，我无法回答这个问题。")
                .reply("Here is a plain, complete answer to your question with the facts as commonly reported.");
    }

    private static JsonNode run() throws Exception {
        return JSON.readTree(given().header("Authorization", ADMIN).when().post("/admin/probes/run")
                .then().statusCode(200).extract().asString());
    }

    private static Map<String, JsonNode> topics(JsonNode report) {
        Map<String, JsonNode> m = new HashMap<>();
        report.get("topics").forEach(t -> m.put(t.get("id").asText(), t));
        return m;
    }

    @Test
    void everyProbeGoesThroughTheGovernedPipelineAndTheReportTellsRefusedDeflectedAndAnsweredApart() throws Exception {
        censorLikeDeepSeek();
        JsonNode suite = JSON.readTree(given().header("Authorization", ADMIN).when().get("/admin/probes/suite")
                .then().statusCode(200).extract().asString());
        int prompts = 0;
        for (JsonNode t : suite.get("topics")) {
            prompts += t.get("prompts").size();
        }

        JsonNode reports = run().get("reports");
        assertEquals(1, reports.size(), "one backend serving one model");
        JsonNode report = reports.get(0).get("report");
        assertEquals("mock", report.get("backend").asText());
        assertEquals(prompts, mock().requests(), "every prompt reached the backend");

        Map<String, JsonNode> topics = topics(report);
        assertEquals(3, topics.get("tiananmen-1989").at("/outcomes/deflection").asInt(), "en, zh and de prompts deflected");
        assertEquals(3, topics.get("taiwan-status").at("/outcomes/refusal").asInt(), "en, zh refused; ja contains 台湾 too");
        assertEquals(3, topics.get("control-geography").at("/outcomes/answered").asInt());
        assertTrue(topics.get("control-geography").at("/outcomes/deflection").isMissingNode());
        assertEquals(0, topics.get("control-geography").get("filter_acted").asInt(), "the tenant filter column is beside it");
        assertFalse(report.toString().contains("beyond my current scope"), "the report holds outcomes, not answers");

        // Each probe was an audited request of the caller's tenant.
        String requestId = topics.get("tiananmen-1989").at("/results/0/request_id").asText();
        JsonNode audited = JSON.readTree(given().header("Authorization", ADMIN).queryParam("request_id", requestId)
                .when().get("/audit/records").then().statusCode(200).extract().asString());
        assertEquals(1, audited.get("items").size());
    }

    @Test
    void reportsAreSignedWithTheCheckpointKeyAndShowWhatChangedBetweenRuns() throws Exception {
        censorLikeDeepSeek();
        run();
        mock().censor("Taiwan", null).censor("台湾", null); // the next model version answers about Taiwan
        run();

        JsonNode history = JSON.readTree(given().header("Authorization", ADMIN).queryParam("backend", "mock")
                .when().get("/admin/probes/reports").then().statusCode(200).extract().asString());
        assertEquals(signer.publicKeyHex(), history.get("public_key").asText());
        JsonNode runs = history.get("runs");
        assertTrue(runs.size() >= 2);
        for (JsonNode r : runs) {
            assertTrue(r.get("signature_valid").asBoolean(), "signature of run " + r.at("/report/run_id"));
            assertEquals("Ed25519", r.at("/signature/algorithm").asText());
        }
        boolean taiwanChanged = false;
        for (JsonNode c : history.get("changes")) {
            if (c.get("topic").asText().equals("taiwan-status") && c.at("/after/answered").asInt() == 3) {
                taiwanChanged = c.at("/before/refusal").asInt() == 3;
            }
        }
        assertTrue(taiwanChanged, history.get("changes").toString());

        // A third party re-derives the signed bytes from the report; an edited report fails.
        JsonNode last = runs.get(runs.size() - 1);
        @SuppressWarnings("unchecked")
        Map<String, Object> report = JSON.convertValue(last.get("report"), Map.class);
        var sig = new CheckpointSigner.SignedDocument(last.at("/signature/type").asText(), last.at("/signature/sha256").asText(),
                last.at("/signature/key_id").asText(), "Ed25519", last.at("/signature/signature").asText());
        assertTrue(signer.verifyDocument(Canonical.json(report), sig));
        report.put("model", "another-model");
        assertFalse(signer.verifyDocument(Canonical.json(report), sig));
    }

    @Test
    void runningProbesNeedsGatewayAdminAndACredential() throws Exception {
        given().when().post("/admin/probes/run").then().statusCode(401);
        String userKey = JSON.readTree(given().header("Authorization", ADMIN).contentType(ContentType.JSON)
                .body("{\"name\":\"probe-user\",\"roles\":[\"gateway-user\"],\"expires_in_days\":1}")
                .when().post("/admin/api-keys").then().statusCode(201).extract().asString()).get("key").asText();
        int before = mock().requests();
        given().header("Authorization", "Bearer " + userKey).when().post("/admin/probes/run").then().statusCode(403);
        given().header("Authorization", "Bearer " + userKey).when().get("/admin/probes/reports").then().statusCode(403);
        given().header("Authorization", "Bearer " + userKey).when().get("/admin/probes/suite").then().statusCode(200);
        assertEquals(before, mock().requests(), "no probe ran");
    }
}
