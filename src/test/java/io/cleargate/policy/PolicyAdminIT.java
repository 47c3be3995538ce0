package io.cleargate.policy;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.Roles;
import io.cleargate.testsupport.OpaTestResource;
import io.cleargate.testsupport.TestCredentials;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An administrator edits a tenant's policy end to end against a real OPA: validate, test, what-if,
 * activate, see it enforced, look at the history, roll back.
 */
@QuarkusTest
@TestProfile(PolicyAdminProfile.class)
class PolicyAdminIT {

    /** acme-eu's own settings, which acme-eu's policy admin edits. */
    private static final String TENANTS = "cleargate/tenants/acme-eu/data.json";
    /** The development tenant's settings, edited here by the platform administrator. */
    private static final String DEV = "cleargate/tenants/dev/data.json";
    /** A tenant only the platform administrator may add. */
    private static final String HOOLI = "cleargate/tenants/hooli/data.json";
    /** The platform's moderation profiles: global, platform administrator only. */
    private static final String PROFILES = "cleargate/moderation/profiles/data.json";
    private static final String LITE = "deepseek-v2-lite-chat";
    private static final String MOE = "deepseek-moe-16b-chat";

    @Inject
    PolicyStage stage;

    @Inject
    RecordedDecisionInputs recorded;

    @Inject
    RecordedAdminEvents adminEvents;

    /** acme-eu's policy administrator: its own tenant's files only. */
    private static String adminCredential() {
        return TestCredentials.bearer(Roles.POLICY_ADMIN, "acme-eu", "policy-admin");
    }

    private static io.restassured.specification.RequestSpecification admin() {
        return given().header("Authorization", adminCredential()).contentType(ContentType.JSON);
    }

    /** The platform administrator: the global modules and every tenant. */
    private static io.restassured.specification.RequestSpecification platform() {
        return given().header("Authorization", TestCredentials.bearer(Roles.PLATFORM_ADMIN, "dev", "platform-admin"))
                .contentType(ContentType.JSON);
    }

    @Test
    void callersWithoutAPolicyAdminCredentialAreRefused() {
        given().get("/admin/policies").then().statusCode(401).body("error.type", equalTo("authentication_error"));
        given().header("Authorization", "Bearer wrong").get("/admin/policies").then().statusCode(401);
    }

    @Test
    void listsPoliciesAndTenantData() {
        platform().get("/admin/policies").then().statusCode(200)
                .body("files.path", hasItem("cleargate/decision/decision.rego"))
                .body("files.find { it.path == 'system/authz/authz.rego' }.editable", equalTo(false));
        admin().get("/admin/policies").then().statusCode(200)
                .body("files.find { it.path == 'cleargate/decision/decision.rego' }.editable", equalTo(false))
                .body("files.find { it.path == 'cleargate/tenants/acme-eu/data.json' }.editable", equalTo(true))
                .body("files.path", not(hasItem("cleargate/tenants/globex-us/data.json")));
        admin().get("/admin/policies/tenants/acme-eu").then().statusCode(200).body("jurisdiction", equalTo("EU"));
        admin().get("/admin/policies/files/cleargate/lib/lib.rego").then().statusCode(200)
                .body("content", containsString("package cleargate.lib"));
        platform().get("/admin/policies/tenants/nobody").then().statusCode(404);
    }

    @Test
    void draftThatDoesNotCompileIsReportedWithFileAndLine() {
        String broken = "package cleargate.decision\n\nallow if {\n\tinput.x ==\n}\n";
        platform().body(Map.of("files", Map.of("cleargate/extra/extra.rego", "package cleargate.extra\n\nok if {\n\tnope\n}\n")))
                .post("/admin/policies/validate").then().statusCode(200)
                .body("valid", equalTo(false))
                .body("errors[0].file", equalTo("cleargate/extra/extra.rego"))
                .body("errors[0].row", equalTo(4))
                .body("errors[0].code", equalTo("rego_unsafe_var_error"));
        platform().body(Map.of("files", Map.of("cleargate/decision/decision.rego", broken)))
                .post("/admin/policies/validate").then().statusCode(200)
                .body("valid", equalTo(false))
                .body("errors[0].file", equalTo("cleargate/decision/decision.rego"))
                .body("errors[0].row", equalTo(5));
        platform().body(Map.of("files", Map.of("system/authz/authz.rego", "package system.authz\n\nallow := true\n")))
                .post("/admin/policies/validate").then().statusCode(200)
                .body("valid", equalTo(false)).body("errors[0].code", equalTo("invalid_path"));
        platform().body(Map.of("files", Map.of(DEV, "{\"limits\": ")))
                .post("/admin/policies/activate").then().statusCode(422)
                .body("error.code", equalTo("policy_draft_rejected"))
                .body("error.errors[0].code", equalTo("invalid_json"));
    }

    @Test
    void draftThatBreaksAPolicyTestIsReportedAndCannotBeActivated() throws Exception {
        String tenants = current(DEV).replace("\"regions\": [\"local\"]", "\"regions\": [\"elsewhere\"]");
        platform().body(Map.of("files", Map.of(DEV, tenants))).post("/admin/policies/test").then().statusCode(200)
                .body("passed", equalTo(false))
                .body("failures.name", hasItem("test_dev_user_may_use_any_model"));
        platform().body(Map.of("files", Map.of(DEV, tenants))).post("/admin/policies/activate").then().statusCode(422)
                .body("error.tests.failures.name", hasItem("test_dev_user_may_use_any_model"));
        assertFalse(current(DEV).contains("elsewhere"), "a rejected draft changes nothing");
    }

    @Test
    void draftWhoseDecisionsTheGatewayCannotParseIsRejectedByWhatIfAndActivation() throws Exception {
        // A new tenant that compiles and passes every Rego test (count("eu-west") > 0 holds for a
        // string too), but whose every decision carries a string where the contract wants an array.
        String hooli = "{\"jurisdiction\": \"EU\","
                + " \"models\": [\"deepseek-moe-16b-chat\"], \"regions\": \"eu-west\", \"limits\": {\"max_tokens\": 512,"
                + " \"max_tokens_action\": \"clamp\", \"requests_per_minute\": 60, \"tokens_per_minute\": 10000},"
                + " \"moderation\": {\"profile\": \"default\", \"overrides\": {}}, \"audit\": {\"content_mode\":"
                + " \"hash-only\", \"content_retention_days\": 0, \"metadata_retention_days\": 365}}\n";
        var draft = Map.of("files", Map.of(HOOLI, hooli), "message", "hooli with regions as a string");
        platform().body(draft).post("/admin/policies/test").then().statusCode(200).body("passed", equalTo(true));

        platform().body(draft).queryParam("tenant", "hooli").post("/admin/policies/what-if").then().statusCode(422)
                .body("error.code", equalTo("policy_draft_rejected"))
                .body("error.message", containsString("regions is not an array"))
                .body("error.errors[0].code", equalTo("malformed_decision"))
                .body("error.errors[0].message", containsString("tenant hooli"));
        platform().body(draft).post("/admin/policies/activate").then().statusCode(422)
                .body("error.code", equalTo("policy_draft_rejected"))
                .body("error.errors.code", hasItem("malformed_decision"))
                .body("error.errors.message", hasItem(containsString("model deepseek-moe-16b-chat (probe input): regions is not an array")));
        assertFalse(Files.exists(OpaTestResource.server().policies().resolve(HOOLI)), "a rejected draft changes nothing");
    }

    @Test
    void moderationOverridesAndProfilesGoThroughValidationTestsWhatIfActivationAndRollback() throws Exception {
        // The override that shipped misspelled: refused where it is written, with the rule it meant.
        String misspelled = current(TENANTS).replace("\"pii-email\": \"redact\"", "\"pii.email\": \"redact\"");
        admin().body(Map.of("files", Map.of(TENANTS, misspelled))).post("/admin/policies/validate").then().statusCode(200)
                .body("valid", equalTo(false))
                .body("errors[0].code", equalTo("invalid_moderation_override"))
                .body("errors[0].file", equalTo(TENANTS))
                .body("errors[0].row", equalTo(lineOf(misspelled, "\"pii.email\"")))
                .body("errors[0].message", containsString("profile 'strict' has no rule 'pii.email'; did you mean 'pii-email'?"));
        admin().body(Map.of("files", Map.of(TENANTS, misspelled))).post("/admin/policies/activate").then().statusCode(422)
                .body("error.errors[0].code", equalTo("invalid_moderation_override"));

        // A tenant edit that breaks an explain fixture cannot go live.
        String weakened = current(TENANTS).replace("\"pii-email\": \"redact\"", "\"pii-email:input\": \"flag\"");
        admin().body(Map.of("files", Map.of(TENANTS, weakened))).post("/admin/policies/test").then().statusCode(200)
                .body("passed", equalTo(false))
                .body("failures.name", hasItem("acme-eu-prompts-reach-the-model-with-e-mail-addresses-redacted"));
        admin().body(Map.of("files", Map.of(TENANTS, weakened))).post("/admin/policies/activate").then().statusCode(422)
                .body("error.tests.failures.name", hasItem("acme-eu-prompts-reach-the-model-with-e-mail-addresses-redacted"));

        // A platform profile change: what-if for acme-eu, activation, audit event, rollback.
        String profiles = current(PROFILES);
        String blocking = profiles.replace(
                "\"description\": \"Employee ids (EMP- followed by six digits).\",\n        \"input\": \"redact\"",
                "\"description\": \"Employee ids (EMP- followed by six digits).\",\n        \"input\": \"block\"");
        assertNotEquals(profiles, blocking);
        var draft = Map.of("files", Map.of(PROFILES, blocking), "message", "block employee ids on input");
        platform().body(draft).post("/admin/policies/test").then().statusCode(200).body("passed", equalTo(true));
        platform().body(draft).queryParam("tenant", "acme-eu").post("/admin/policies/what-if").then().statusCode(200)
                .body("effects.moderation.profile_after", equalTo("strict"))
                .body("effects.moderation.changed_rules[0].rule", equalTo("employee-id"))
                .body("effects.moderation.changed_rules[0].before", equalTo("redact"))
                .body("effects.moderation.changed_rules[0].after", equalTo("block"));
        Map<String, Object> activation = platform().body(draft).post("/admin/policies/activate").then().statusCode(200)
                .body("files", equalTo(List.of(PROFILES))).extract().as(Map.class);
        assertEquals(blocking, current(PROFILES));
        assertEquals("policy.activate", adminEvents.last().action());
        assertEquals(List.of(PROFILES), adminEvents.last().details().get("files"));
        platform().post("/admin/policies/history/" + activation.get("history_id") + "/rollback").then().statusCode(200);
        assertEquals(profiles, current(PROFILES));
    }

    private static int lineOf(String text, String needle) {
        return text.substring(0, text.indexOf(needle)).split("\n", -1).length;
    }

    @Test
    void editTestWhatIfActivateEnforceAndRollBack() throws Exception {
        String original = current(TENANTS);
        String startRevision = admin().get("/admin/policies").then().statusCode(200).extract().path("revision");

        // Real traffic first: its policy inputs are what the what-if replays.
        var harness = new PipelineHarness(stage);
        var liteBefore = harness.chat(PipelineHarness.user("acme-eu", "gateway-user"), LITE, 100, 100);
        var moeBefore = harness.chat(PipelineHarness.user("acme-eu", "gateway-user"), MOE, 100, 100);
        assertEquals(200, liteBefore.status());
        assertEquals(200, moeBefore.status());
        assertEquals(startRevision, liteBefore.decision().bundleRevision());
        recorded.record(liteBefore.decision());
        recorded.record(moeBefore.decision());

        // The edit: acme-eu may no longer use the lite model.
        String edited = original.replace("\"models\": [\"deepseek-moe-16b-chat\", \"deepseek-v2-lite-chat\", \"deepseek-v3\"]",
                "\"models\": [\"deepseek-moe-16b-chat\", \"deepseek-v3\"]");
        assertNotEquals(original, edited);
        var draft = Map.of("files", Map.of(TENANTS, edited), "message", "acme-eu: drop the lite model");

        admin().body(draft).post("/admin/policies/validate").then().statusCode(200).body("valid", equalTo(true));
        admin().body(draft).post("/admin/policies/test").then().statusCode(200).body("passed", equalTo(true));
        admin().body(draft).queryParam("tenant", "acme-eu").queryParam("n", 10).post("/admin/policies/what-if")
                .then().statusCode(200)
                .body("evaluated", equalTo(2))
                .body("changed", equalTo(1))
                .body("decisions[0].model", equalTo(LITE))
                .body("decisions[0].before.allow", equalTo(true))
                .body("decisions[0].after.allow", equalTo(false))
                .body("decisions[0].after.reasons[0].code", equalTo("model_not_allowed"));

        Map<String, Object> activation = admin().body(draft).post("/admin/policies/activate").then().statusCode(200)
                .body("files", equalTo(List.of(TENANTS))).extract().as(Map.class);
        String newRevision = (String) activation.get("revision");
        assertNotEquals(startRevision, newRevision);
        assertEquals(edited, current(TENANTS), "policies/ is the source of truth and holds the activated draft");

        var activated = adminEvents.last();
        assertEquals("policy.activate", activated.action());
        assertEquals(TestCredentials.principal(adminCredential()).subject(), activated.actor());
        assertEquals(newRevision, activated.details().get("revision"));
        assertEquals(List.of(TENANTS), activated.details().get("files"));

        var liteAfter = harness.chat(PipelineHarness.user("acme-eu", "gateway-user"), LITE, 100, 100);
        assertEquals(404, liteAfter.status(), "the activated policy is enforced at once: the model is not found");
        assertEquals(List.of("model_not_allowed"),
                liteAfter.decision().reasons().stream().map(PolicyDecision.Reason::code).toList());
        assertEquals(newRevision, liteAfter.decision().bundleRevision());

        Number id = (Number) activation.get("history_id");
        admin().get("/admin/policies/history").then().statusCode(200)
                .body("[0].id", equalTo(id.intValue()))
                .body("[0].author", equalTo(TestCredentials.principal(adminCredential()).subject()))
                .body("[0].action", equalTo("activate"))
                .body("[0].message", equalTo("acme-eu: drop the lite model"));
        admin().get("/admin/policies/history/" + id).then().statusCode(200)
                .body("diff", containsString("-  \"models\": [\"deepseek-moe-16b-chat\", \"deepseek-v2-lite-chat\", \"deepseek-v3\"],"))
                .body("diff", containsString("+  \"models\": [\"deepseek-moe-16b-chat\", \"deepseek-v3\"],"));

        admin().post("/admin/policies/history/" + id + "/rollback").then().statusCode(200)
                .body("revision", equalTo(startRevision));
        assertEquals(original, current(TENANTS));
        assertEquals("policy.rollback", adminEvents.last().action());
        var liteRolledBack = harness.chat(PipelineHarness.user("acme-eu", "gateway-user"), LITE, 100, 100);
        assertEquals(200, liteRolledBack.status(), "after the rollback the model is allowed again");
        assertEquals(startRevision, liteRolledBack.decision().bundleRevision());
        admin().get("/admin/policies/history").then().statusCode(200)
                .body("[0].action", equalTo("rollback"))
                .body("$", not(hasSize(0)));
        assertTrue(harness.dispatcher.opened.size() >= 3);
    }

    private static String current(String path) throws Exception {
        return Files.readString(OpaTestResource.server().policies().resolve(path));
    }
}
