package io.cleargate.policy;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.Roles;
import io.cleargate.tenant.TenantRegistry;
import io.cleargate.testsupport.OpaTestResource;
import io.cleargate.testsupport.TestCredentials;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A platform administrator adds, suspends and resumes a tenant through the admin API, against a
 * real OPA and the tenant table, without a restart: the policy data is the one list of tenants.
 */
@QuarkusTest
@TestProfile(PolicyAdminProfile.class)
class TenantAdminIT {

    private static final String TENANTS = "cleargate/tenants/";
    private static final String MOE = "deepseek-moe-16b-chat";

    @Inject
    PolicyStage stage;

    @Inject
    TenantRegistry registry;

    @Inject
    RecordedAdminEvents events;

    private static RequestSpecification as(String role) {
        return given().header("Authorization", TestCredentials.bearer(role, "dev", role)).contentType(ContentType.JSON);
    }

    private static Map<String, Object> settings(Object regions) {
        return Map.of("description", "Umbrella Europe", "jurisdiction", "EU", "models", List.of(MOE), "regions", regions,
                "limits", Map.of("max_tokens", 1024, "max_tokens_action", "clamp", "requests_per_minute", 60,
                        "tokens_per_minute", 50000),
                "moderation", Map.of("profile", "strict", "overrides", Map.of()),
                "audit", Map.of("content_mode", "redacted", "content_retention_days", 30, "metadata_retention_days", 365));
    }

    @Test
    void aPlatformAdminAddsSuspendsAndResumesATenantWithoutARestart() throws Exception {
        assertFalse(exists("umbrella-co"));
        var harness = new PipelineHarness(stage);
        var user = PipelineHarness.user("umbrella-co", "gateway-user");
        assertEquals(List.of("unknown_tenant"), harness.chat(user, MOE, 100, 100).reasonCodes());
        assertTrue(registry.find("umbrella-co").isEmpty());

        Number created = as(Roles.PLATFORM_ADMIN)
                .body(Map.of("id", "umbrella-co", "settings", settings(List.of("eu-west")), "message", "onboard Umbrella"))
                .post("/admin/tenants").then().statusCode(200)
                .body("action", equalTo("tenant.create"))
                .extract().path("activation.history_id");
        assertTrue(registry.find("umbrella-co").orElseThrow().active(), "the tenant table follows the policy data");
        assertEquals("EU", registry.find("umbrella-co").orElseThrow().jurisdiction());
        assertEquals(200, harness.chat(user, MOE, 100, 100).status(), "served at once, no restart");
        var event = events.last();
        assertEquals("tenant.create", event.action());
        assertEquals("umbrella-co", event.tenant());
        assertEquals("onboard Umbrella", event.details().get("message"));
        assertTrue(events.all().stream().anyMatch(e -> e.action().equals("policy.activate")));
        as(Roles.PLATFORM_ADMIN).get("/admin/tenants").then().statusCode(200)
                .body("tenants.find { it.id == 'umbrella-co' }.suspended", equalTo(false));
        as(Roles.PLATFORM_ADMIN).body(Map.of("id", "umbrella-co", "settings", settings(List.of("eu-west"))))
                .post("/admin/tenants").then().statusCode(409).body("error.code", equalTo("tenant_exists"));

        as(Roles.PLATFORM_ADMIN).body(Map.of("message", "unpaid invoices")).post("/admin/tenants/umbrella-co/suspend")
                .then().statusCode(200).body("action", equalTo("tenant.suspend"));
        assertFalse(registry.find("umbrella-co").orElseThrow().active(), "the guard refuses a suspended tenant");
        assertEquals(List.of("tenant_suspended"), harness.chat(user, MOE, 100, 100).reasonCodes());
        assertEquals("tenant.suspend", events.last().action());
        as(Roles.PLATFORM_ADMIN).get("/admin/tenants").then().statusCode(200)
                .body("tenants.find { it.id == 'umbrella-co' }.suspended", equalTo(true));

        as(Roles.PLATFORM_ADMIN).body(Map.of()).post("/admin/tenants/umbrella-co/resume").then().statusCode(200);
        assertTrue(registry.find("umbrella-co").orElseThrow().active());
        assertEquals(200, harness.chat(user, MOE, 100, 100).status());
        as(Roles.PLATFORM_ADMIN).get("/admin/policies/history").then().statusCode(200)
                .body("message", hasItem("unpaid invoices"));

        // Undo it all through the policy history: the tenant is gone from the data and switched off.
        as(Roles.PLATFORM_ADMIN).post("/admin/policies/history/" + created + "/rollback").then().statusCode(200);
        assertFalse(exists("umbrella-co"));
        assertFalse(registry.find("umbrella-co").orElseThrow().active());
    }

    @Test
    void aTenantWhoseDecisionsTheGatewayCouldNotParseIsNotAdded() {
        as(Roles.PLATFORM_ADMIN).body(Map.of("id", "broken-co", "settings", settings("eu-west")))
                .post("/admin/tenants").then().statusCode(422)
                .body("error.errors[0].code", equalTo("malformed_decision"))
                .body("error.message", containsString("regions is not an array"));
        assertTrue(registry.find("broken-co").isEmpty());
        assertFalse(exists("broken-co"));
    }

    @Test
    void onlyAPlatformAdminManagesTenants() {
        as(Roles.POLICY_ADMIN).get("/admin/tenants").then().statusCode(403);
        as(Roles.GATEWAY_ADMIN).body(Map.of("id", "sneaky-co", "settings", settings(List.of("eu-west"))))
                .post("/admin/tenants").then().statusCode(403);
        as(Roles.POLICY_ADMIN).post("/admin/tenants/dev/suspend").then().statusCode(403);
        given().get("/admin/tenants").then().statusCode(401);
        assertTrue(registry.find("sneaky-co").isEmpty());
    }

    @Test
    void aTenantsPolicyAdminCannotMoveUnsuspendOrRemoveItsOwnTenant() throws Exception {
        String path = TENANTS + "dev/data.json";
        String own = Files.readString(OpaTestResource.server().policies().resolve(path));
        for (String edited : List.of(own.replace("\"LOCAL\"", "\"US\""),
                own.replaceFirst("\\{", "{\"suspended\": false, "))) {
            as(Roles.POLICY_ADMIN).body(Map.of("files", Map.of(path, edited))).post("/admin/policies/activate")
                    .then().statusCode(403).body("error.message", containsString("platform administrator"));
        }
        as(Roles.POLICY_ADMIN).body(Map.of("deleted", List.of(path))).post("/admin/policies/validate")
                .then().statusCode(403).body("error.message", containsString("platform administrator"));
        // Its other settings stay its own to change.
        as(Roles.POLICY_ADMIN).body(Map.of("files", Map.of(path, own.replace("\"max_tokens\": 8192", "\"max_tokens\": 8000"))))
                .post("/admin/policies/validate").then().statusCode(200).body("valid", equalTo(true));
        assertEquals(own, Files.readString(OpaTestResource.server().policies().resolve(path)));
    }

    private static boolean exists(String tenant) {
        return Files.exists(OpaTestResource.server().policies().resolve(TENANTS + tenant + "/data.json"));
    }
}
