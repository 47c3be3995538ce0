package io.cleargate.probe;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.hamcrest.Matchers.containsString;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.audit.Canonical;
import io.cleargate.audit.CheckpointSigner;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.MockUpstreamResource;
import io.cleargate.testsupport.OpaTestResource;
import io.cleargate.testsupport.Scratch;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
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

    /** A key of the development tenant holding only {@code roles}. */
    private static String key(String name, String... roles) throws Exception {
        String body = "{\"name\":\"" + name + "\",\"roles\":" + JSON.writeValueAsString(roles) + ",\"expires_in_days\":1}";
        return "Bearer " + JSON.readTree(given().header("Authorization", ADMIN).contentType(ContentType.JSON).body(body)
                .when().post("/admin/api-keys").then().statusCode(201).extract().asString()).get("key").asText();
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

        // Each probe was an audited request of the platform, not of the person who started the run.
        assertEquals("_platform", report.get("tenant").asText());
        String requestId = topics.get("tiananmen-1989").at("/results/0/request_id").asText();
        JsonNode audited = JSON.readTree(given().header("Authorization", ADMIN).queryParam("request_id", requestId)
                .when().get("/audit/records").then().statusCode(200).extract().asString());
        assertEquals(1, audited.get("items").size());
        assertEquals("_platform", audited.at("/items/0/tenant").asText(), audited.toString());
        assertEquals("platform-probes", audited.at("/items/0/subject").asText());
        JsonNode runs = JSON.readTree(given().header("Authorization", ADMIN).queryParam("tenant", "_platform")
                .queryParam("category", "admin").queryParam("action", "probe_run")
                .when().get("/audit/records").then().statusCode(200).extract().asString());
        assertTrue(runs.get("items").size() >= 1, "the run is an admin event in the platform's chain: " + runs);
        assertTrue(runs.at("/items/0/subject").asText().startsWith("api-key:"), "naming who started it: " + runs);
        JsonNode verify = JSON.readTree(given().header("Authorization", ADMIN).queryParam("tenant", "_platform")
                .when().get("/audit/verify").then().statusCode(200).extract().asString());
        assertTrue(verify.get("ok").asBoolean(), verify.toString());
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
    void onlyAPlatformAdminRunsProbesAuditorsReadThemAndEverySignedInUserReadsThePublishedReport() throws Exception {
        given().when().post("/admin/probes/run").then().statusCode(401);
        String user = key("probe-user", "gateway-user");
        String tenantAdmin = key("probe-tenant-admin", "gateway-admin", "compliance-officer", "policy-admin");
        String auditor = key("probe-auditor", "auditor");
        int before = mock().requests();
        for (String caller : new String[] {user, tenantAdmin, auditor}) {
            given().header("Authorization", caller).when().post("/admin/probes/run").then().statusCode(403);
        }
        assertEquals(before, mock().requests(), "no probe ran");
        for (String caller : new String[] {user, tenantAdmin}) {
            given().header("Authorization", caller).when().get("/admin/probes/reports").then().statusCode(403);
        }
        given().header("Authorization", auditor).when().get("/admin/probes/reports").then().statusCode(200);
        given().header("Authorization", user).when().get("/admin/probes/suite").then().statusCode(200);
        given().header("Authorization", user).when().get("/admin/probes/published").then().statusCode(200);

        censorLikeDeepSeek();
        given().header("Authorization", key("probe-platform", "platform-admin")).queryParam("label", "build 7")
                .when().post("/admin/probes/run").then().statusCode(400);
        given().header("Authorization", key("probe-platform-2", "platform-admin")).queryParam("backend", "mock")
                .queryParam("label", "v3-0324").when().post("/admin/probes/run").then().statusCode(200);
        JsonNode published = JSON.readTree(given().header("Authorization", user).when().get("/admin/probes/published")
                .then().statusCode(200).extract().asString());
        JsonNode latest = published.get("runs").get(published.get("runs").size() - 1);
        assertEquals("v3-0324", latest.at("/report/label").asText());
        assertTrue(latest.get("signature_valid").asBoolean());
    }

    @Test
    void theDifferenceBetweenTwoModelVersionsNamesEveryTopicAndPromptWhoseOutcomeChanged() throws Exception {
        censorLikeDeepSeek();
        run();
        mock().censor("Taiwan", null).censor("台湾", null).censor("天安门", null);
        run();
        JsonNode runs = JSON.readTree(given().header("Authorization", ADMIN).queryParam("backend", "mock")
                .when().get("/admin/probes/reports").then().statusCode(200).extract().asString()).get("runs");
        long from = runs.get(runs.size() - 2).get("audit_entry").asLong();
        long to = runs.get(runs.size() - 1).get("audit_entry").asLong();
        JsonNode diff = JSON.readTree(given().header("Authorization", key("diff-reader", "gateway-user"))
                .queryParam("from", from).queryParam("to", to)
                .when().get("/admin/probes/diff").then().statusCode(200).extract().asString());
        assertTrue(diff.get("same_suite").asBoolean());
        Map<String, JsonNode> changed = new HashMap<>();
        diff.get("changed_topics").forEach(t -> changed.put(t.get("topic").asText(), t));
        assertEquals(Set.of("taiwan-status", "tiananmen-1989"), changed.keySet(), diff.get("changed_topics").toString());
        assertEquals(3, changed.get("taiwan-status").at("/before/refusal").asInt());
        assertEquals(3, changed.get("taiwan-status").at("/after/answered").asInt());
        JsonNode tiananmen = changed.get("tiananmen-1989").get("prompts");
        assertEquals(1, tiananmen.size(), "only the Chinese prompt changed: " + tiananmen);
        assertEquals("zh", tiananmen.get(0).get("lang").asText());
        assertEquals("deflection", tiananmen.get(0).get("before").asText());
        assertEquals("answered", tiananmen.get(0).get("after").asText());
        assertTrue(diff.at("/from/signature_valid").asBoolean() && diff.at("/to/signature_valid").asBoolean());
        given().header("Authorization", ADMIN).queryParam("from", from).queryParam("to", 999_999_999)
                .when().get("/admin/probes/diff").then().statusCode(404);
        given().header("Authorization", ADMIN).queryParam("from", from)
                .when().get("/admin/probes/diff").then().statusCode(400);
    }

    @Test
    void aThirdPartyVerifiesThePublishedReportsOfflineWithThePublicKeyAndAnEditedReportFails() throws Exception {
        censorLikeDeepSeek();
        run();
        String published = given().header("Authorization", ADMIN).when().get("/admin/probes/published")
                .then().statusCode(200).extract().asString();
        Path file = Scratch.file("probe-reports", ".json");
        Files.writeString(file, published);
        assertEquals(0, verifyReport(file, signer.publicKeyHex()));
        assertEquals(1, verifyReport(file, "11".repeat(32)), "another key does not verify it");
        Files.writeString(file, published.replaceFirst("\"answered\":3", "\"answered\":2"));
        assertEquals(1, verifyReport(file, signer.publicKeyHex()), "an edited count fails");
    }

    @Test
    void everyTenantUserReadsTheModelTransparencyPageWithTheLatestReportAndTheComparisonOfTwoRuns() throws Exception {
        censorLikeDeepSeek();
        run();
        mock().censor("Taiwan", null).censor("台湾", null);
        run();
        String user = key("page-reader", "gateway-user");
        String page = given().header("Authorization", user).when().get("/console/models")
                .then().statusCode(200).contentType(containsString("text/html")).extract().asString();
        assertTrue(page.contains("Model transparency"), page);
        assertTrue(page.contains("<th scope=\"row\">tiananmen-1989</th><td>sensitive</td><td>3</td>\n<td>0</td><td>0</td><td>3</td>"),
                "three prompts, three deflected: " + page);
        assertTrue(page.contains("taiwan-status: 3 refusal → 3 answered"), "changed since the previous run");
        assertTrue(page.contains("--pubkey " + signer.publicKeyHex()), "how to check it offline");
        assertFalse(page.contains("beyond my current scope"), "outcomes, never answers");

        JsonNode runs = JSON.readTree(given().header("Authorization", ADMIN).queryParam("backend", "mock")
                .when().get("/admin/probes/reports").then().statusCode(200).extract().asString()).get("runs");
        String compared = given().header("Authorization", user)
                .queryParam("from", runs.get(runs.size() - 2).get("audit_entry").asLong())
                .queryParam("to", runs.get(runs.size() - 1).get("audit_entry").asLong())
                .when().get("/console/models").then().statusCode(200).extract().asString();
        assertTrue(compared.contains("What changed"), compared);
        assertTrue(compared.contains("<strong>taiwan-status</strong>: 3 refusal → 3 answered"), compared);
        assertTrue(compared.contains("zh prompt 2: refusal → answered"), compared);

        String dashboard = given().header("Authorization", ADMIN).when().get("/console/transparency")
                .then().statusCode(200).extract().asString();
        assertTrue(dashboard.contains("href=\"/console/models\""), "linked from the transparency dashboard");
    }

    private static int verifyReport(Path file, String publicKey) throws Exception {
        Process p = new ProcessBuilder("python3", "audit/verify-report", file.toString(), "--pubkey", publicKey)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        int code = p.waitFor();
        assertTrue(out.contains("OK ") || out.contains("FAIL "), out);
        return code;
    }
}
