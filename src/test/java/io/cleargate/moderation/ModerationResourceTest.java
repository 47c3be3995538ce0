package io.cleargate.moderation;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;

import io.cleargate.testsupport.TestCredentials;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@io.quarkus.test.common.QuarkusTestResource(value = io.cleargate.testsupport.OpaTestResource.class, restrictToAnnotatedClass = true)
class ModerationResourceTest {

    @Test
    void tenantUsersSeeTheirActiveRules() {
        given().header("Authorization", TestCredentials.bearer("gateway-user", "dev", "alice"))
                .when().get("/v1/moderation/rules")
                .then().statusCode(200)
                .body("tenant", equalTo("dev"))
                .body("profile", equalTo("default"))
                .body("rules.id", hasItems("secret-private-key", "pii-email", "pii-card"))
                .body("rules.find { it.id == 'secret-cloud-key' }.input", equalTo("block"))
                .body("rules.find { it.id == 'pii-email' }.output", equalTo("redact"))
                .body("rules.find { it.id == 'pii-email' }.description", equalTo("E-mail addresses."));
    }

    @Test
    void rulesNeedAnAuthenticatedCaller() {
        given().when().get("/v1/moderation/rules")
                .then().statusCode(401)
                .header("WWW-Authenticate", "Bearer")
                .body("error.code", equalTo("missing_credentials"));
    }

    @Test
    void explainShowsDetectorPatternViewAndScoreToPolicyAdmins() {
        given().header("Authorization", TestCredentials.bearer("policy-admin", "dev", "bob"))
                .contentType("application/json")
                .body(Map.of("text", "key: A\u200BKIAIOSFODNN7EXAMPLE", "direction", "output"))
                .when().post("/v1/moderation/explain")
                .then().statusCode(200)
                .body("verdicts[0].rule", equalTo("secret-cloud-key"))
                .body("verdicts[0].detector", equalTo("cloud_key"))
                .body("verdicts[0].view", equalTo("clean"))
                .body("verdicts[0].pattern", containsString("AWS"))
                .body("verdicts[0].score", equalTo(0.95f))
                .body("normalization.removed_invisible", equalTo(1))
                .body("result", equalTo("key: [SECRET_1]"))
                .body("toString()", not(containsString("IOSFODNN")));
    }

    @Test
    void explainIsForPolicyAdminsOnly() {
        given().header("Authorization", TestCredentials.bearer("gateway-user", "dev", "alice"))
                .contentType("application/json")
                .body(Map.of("text", "hello"))
                .when().post("/v1/moderation/explain")
                .then().statusCode(403)
                .body("error.code", equalTo("missing_role"));
    }

    @Test
    void explainCanTryAnotherProfile() {
        given().header("Authorization", TestCredentials.bearer("policy-admin", "dev", "bob"))
                .contentType("application/json")
                .body(Map.of("text", "ask EMP-123456", "profile", "strict"))
                .when().post("/v1/moderation/explain")
                .then().statusCode(200)
                .body("profile", equalTo("strict"))
                .body("verdicts.rule", hasItem("employee-id"))
                .body("result", equalTo("ask [EMPLOYEE_ID_1]"));
    }
}
