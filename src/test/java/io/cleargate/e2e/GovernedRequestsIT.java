package io.cleargate.e2e;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.identity.apikey.ApiKeyService;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaTestResource;
import io.cleargate.testsupport.TestCredentials;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline with real parts: API keys (identity), a real OPA with the repository's
 * policies, moderation profiles from policies/, region-labelled HTTP backends and the audit trail.
 * Two tenants in different jurisdictions: acme-eu (EU regions, strict profile) and globex-us.
 */
@QuarkusTest
@QuarkusTestResource(value = OpaTestResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = RegionalBackendsResource.class, restrictToAnnotatedClass = true)
class GovernedRequestsIT {

    private static final String MODEL = RegionalBackendsResource.MODEL;

    @Inject
    ApiKeyService keys;

    private String acme;
    private String globex;

    @BeforeEach
    void keysForBothTenants() {
        acme = key("acme-eu");
        globex = key("globex-us");
    }

    @AfterEach
    void healBackends() {
        RegionalBackendsResource.MOCKS.values().forEach(m -> m.fault(MockUpstream.Fault.NONE).reply(null).echo(false));
    }

    private String key(String tenant) {
        var admin = new Principal(tenant, tenant + "-admin", Set.of(Roles.GATEWAY_ADMIN, Roles.GATEWAY_USER), Principal.AuthMethod.API_KEY);
        return keys.create(admin, "e2e", Set.of(Roles.GATEWAY_USER), Duration.ofHours(1)).secretKey();
    }

    private static Response chat(String key, String model, String prompt, boolean stream) {
        return given().header("Authorization", "Bearer " + key).contentType(ContentType.JSON)
                .body(Map.of("model", model, "stream", stream, "max_tokens", 64,
                        "messages", List.of(Map.of("role", "user", "content", prompt))))
                .when().post("/v1/chat/completions");
    }

    private static MockUpstream backend(String id) {
        return RegionalBackendsResource.MOCKS.get(id);
    }

    @Test
    void eachTenantIsServedOnlyInItsOwnRegions() {
        for (int i = 0; i < 6; i++) {
            chat(acme, MODEL, "acme prompt " + i, i % 2 == 0).then().statusCode(200)
                    .header("x-cleargate-region", oneOf("eu-west", "eu-central"))
                    .header("x-cleargate-backend", oneOf("eu-west-1", "eu-central-1", "eu-central-2"));
            chat(globex, MODEL, "globex prompt " + i, i % 2 == 1).then().statusCode(200)
                    .header("x-cleargate-region", equalTo("us-east"));
        }
        assertEquals(0, backend("us-east-1").requestsContaining("acme prompt"), "EU prompts at the US backend");
        assertEquals(0, backend("eu-west-1").requestsContaining("globex prompt")
                + backend("eu-central-1").requestsContaining("globex prompt"), "US prompts at EU backends");
    }

    @Test
    void withTheEuUpstreamsDownAnEuTenantFailsOverToTheEmbeddedEuEngineNeverToTheUs() {
        backend("eu-west-1").fault(MockUpstream.Fault.STATUS_500);
        backend("eu-central-1").fault(MockUpstream.Fault.STATUS_500);
        for (int i = 0; i < 4; i++) {
            chat(acme, MODEL, "acme during outage " + i, i % 2 == 0).then().statusCode(200)
                    .header("x-cleargate-region", equalTo("eu-central"))
                    .header("x-cleargate-backend", equalTo("eu-central-2"));
        }
        assertEquals(0, backend("us-east-1").requestsContaining("acme during outage"));
    }

    private static Response chatWithTools(String key, List<String> tools, String prompt) {
        var defs = tools.stream().map(name -> Map.of("type", "function", "function", Map.of("name", name))).toList();
        return given().header("Authorization", "Bearer " + key).contentType(ContentType.JSON)
                .body(Map.of("model", MODEL, "max_tokens", 64, "tools", defs,
                        "messages", List.of(Map.of("role", "user", "content", prompt))))
                .when().post("/v1/chat/completions");
    }

    @Test
    void toolsAreGovernedByTheTenantsPolicyAndNeverSentToTheEmbeddedEngine() {
        chatWithTools(acme, List.of("get_weather", "run_shell"), "tools acme").then().statusCode(403)
                .body("error.code", equalTo("policy_denied"))
                .body("error.reasons.code", hasItem("tool_not_allowed"))
                .body("error.message", org.hamcrest.Matchers.containsString("run_shell"));
        chatWithTools(globex, List.of("get_weather"), "tools globex").then().statusCode(403)
                .body("error.reasons.code", hasItem("tool_not_allowed"));
        for (int i = 0; i < 4; i++) {
            chatWithTools(acme, List.of("get_weather"), "allowed tool " + i).then().statusCode(200)
                    .body("choices[0].finish_reason", equalTo("tool_calls"))
                    .body("choices[0].message.tool_calls[0].function.name", equalTo("get_weather"))
                    .header("x-cleargate-backend", oneOf("eu-west-1", "eu-central-1"));
        }
        // With the EU upstreams down, the embedded EU engine (which has no tool calling) is not a
        // fallback that would ignore the tools: the request is refused inside the EU instead.
        backend("eu-west-1").fault(MockUpstream.Fault.STATUS_500);
        backend("eu-central-1").fault(MockUpstream.Fault.STATUS_500);
        chatWithTools(acme, List.of("get_weather"), "tools during outage").then().statusCode(503)
                .body("error.code", equalTo("no_eligible_backend"));
        assertEquals(0, backend("us-east-1").requestsContaining("tools during outage"));
    }

    @Test
    void eachTenantListsOnlyItsOwnModelsAndAnotherTenantsModelIsNotFoundLikeAMissingOne() {
        given().header("Authorization", "Bearer " + acme).when().get("/v1/models").then().statusCode(200)
                .body("data.id", org.hamcrest.Matchers.containsInAnyOrder(MODEL, "deepseek-v2-lite-chat"));
        given().header("Authorization", "Bearer " + globex).when().get("/v1/models").then().statusCode(200)
                .body("data.id", equalTo(List.of(MODEL)));
        String notYours = given().header("Authorization", "Bearer " + globex)
                .when().get("/v1/models/deepseek-v2-lite-chat").then().statusCode(404).extract().asString();
        String missing = given().header("Authorization", "Bearer " + globex)
                .when().get("/v1/models/deepseek-v2-lite-chat-x").then().statusCode(404).extract().asString();
        assertEquals(missing.replace("deepseek-v2-lite-chat-x", "deepseek-v2-lite-chat"), notYours);
        Response chatNotYours = chat(globex, "deepseek-v2-lite-chat", "not yours", false);
        Response chatMissing = chat(globex, "deepseek-v2-lite-chat-x", "missing", false);
        chatNotYours.then().statusCode(404).body("error.code", equalTo("model_not_found"));
        assertEquals(chatMissing.asString().replace("deepseek-v2-lite-chat-x", "deepseek-v2-lite-chat"),
                chatNotYours.asString(), "the same answer for 'not yours' and 'does not exist'");
    }

    @Test
    void aPolicyDenialListsItsReasonsAndIsAudited() {
        Response denied = given().header("Authorization", "Bearer " + globex).contentType(ContentType.JSON)
                .body(Map.of("model", MODEL, "max_tokens", 5000,
                        "messages", List.of(Map.of("role", "user", "content", "too long for globex"))))
                .when().post("/v1/chat/completions");
        denied.then().statusCode(403).body("error.code", equalTo("policy_denied"))
                .body("error.reasons.code", hasItem("max_tokens_exceeded"))
                .body("error.reasons.code", hasItem(not(equalTo(null))));
        String requestId = denied.header("x-request-id");
        given().header("Authorization", TestCredentials.bearer(Roles.COMPLIANCE_OFFICER, "globex-us", "officer"))
                .queryParam("request_id", requestId)
                .when().get("/audit/records")
                .then().statusCode(200)
                .body("items.http_status", hasItem(403))
                .body("items.decision", hasItem("deny"));
        // The other tenant's officer sees nothing of it.
        given().header("Authorization", TestCredentials.bearer(Roles.COMPLIANCE_OFFICER, "acme-eu", "officer"))
                .queryParam("request_id", requestId)
                .when().get("/audit/records")
                .then().statusCode(200).body("items.size()", equalTo(0));
    }

    @Test
    void aForgedCredentialIsRefusedNeverReachesABackendAndIsAudited() {
        int before = RegionalBackendsResource.MOCKS.values().stream().mapToInt(MockUpstream::requests).sum();
        Response refused = chat("cg_00000000_" + "ab".repeat(32), MODEL, "forged", false);
        refused.then().statusCode(401).body("error.type", equalTo("authentication_error"));
        int after = RegionalBackendsResource.MOCKS.values().stream().mapToInt(MockUpstream::requests).sum();
        assertEquals(before, after, "no backend was called");
        given().header("Authorization", TestCredentials.bearer(Roles.AUDITOR, "dev", "auditor"))
                .queryParam("request_id", refused.header("x-request-id"))
                .when().get("/audit/records")
                .then().statusCode(200).body("items.http_status", hasItem(401));
    }

    @Test
    void creatingAnApiKeyIsAnAdminEventInTheTenantsOwnTrail() {
        given().header("Authorization", TestCredentials.bearer(Roles.COMPLIANCE_OFFICER, "acme-eu", "officer"))
                .queryParam("kind", "admin").queryParam("subject", "acme-eu-admin")
                .when().get("/audit/records")
                .then().statusCode(200)
                .body("items.size()", org.hamcrest.Matchers.greaterThan(0))
                .body("items.tenant", org.hamcrest.Matchers.everyItem(equalTo("acme-eu")));
    }

    @Test
    void aSecretInThePromptIsBlockedBeforeAnyBackendSeesIt() {
        chat(acme, MODEL, "deploy with AKIAIOSFODNN7EXAMPLE please", false).then().statusCode(400)
                .body("error.code", equalTo("content_filter"))
                .body(not(containsString("AKIAIOSFODNN7EXAMPLE")));
        RegionalBackendsResource.MOCKS.values()
                .forEach(m -> assertEquals(0, m.requestsContaining("AKIAIOSFODNN7EXAMPLE"), m.id()));
    }

    @Test
    void personalDataInAStreamedAnswerIsRedactedAndExplained() {
        RegionalBackendsResource.MOCKS.values().forEach(m -> m.reply("Write to jane.doe@example.com for the report."));
        String body = chat(globex, MODEL, "who do I write to?", true).then().statusCode(200).extract().asString();
        assertFalse(body.contains("jane.doe@example.com"), body);
        assertTrue(body.contains("[EMAIL_1]"), body);
        assertTrue(body.contains("cleargate_moderation"), "the final chunk explains the redaction");
        assertTrue(body.trim().endsWith("data: [DONE]"));
    }
}
