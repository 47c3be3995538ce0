package io.cleargate.identity;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.cleargate.identity.apikey.ApiKey;
import io.cleargate.identity.apikey.ApiKeyFormat;
import io.cleargate.identity.apikey.ApiKeyStore;
import io.cleargate.testsupport.KeycloakServer;
import io.cleargate.testsupport.KeycloakTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API key admin API over real HTTP with real Keycloak tokens, and the keys it creates used
 * through the pipeline stages.
 */
@QuarkusTest
@WithTestResource(KeycloakTestResource.class)
class ApiKeyAdminIT {

    @Inject
    AuthenticateStage authenticate;

    @Inject
    ResolveTenantStage resolveTenant;

    @Inject
    ApiKeyStore store;

    @Inject
    AgroalDataSource dataSource;

    KeycloakServer keycloak;
    PipelineHarness pipeline;

    @BeforeEach
    void setUp() {
        keycloak = KeycloakServer.get();
        pipeline = new PipelineHarness(authenticate, resolveTenant);
    }

    private String bearer(String user) {
        return "Bearer " + keycloak.passwordToken(user);
    }

    private ValidatableResponse create(String user, String body) {
        return given().header("Authorization", bearer(user)).contentType(ContentType.JSON).body(body)
                .post("/admin/api-keys").then();
    }

    private static void assertOpenAiError(ValidatableResponse response, int status, String code) {
        response.statusCode(status)
                .contentType(ContentType.JSON)
                .body("error.code", equalTo(code))
                .body("error", hasKey("message"))
                .body("error", hasKey("type"))
                .body("error", hasKey("param"));
    }

    @Test
    void gatewayAdminCreatesAKeyThatIsShownOnceAndStoredOnlyAsAHash() throws Exception {
        String key = create("acme-eu-admin", "{\"name\":\"batch jobs\",\"roles\":[\"gateway-user\"],\"expires_in_days\":30}")
                .statusCode(201)
                .header("Cache-Control", "no-store")
                .body("tenant", equalTo("acme-eu"))
                .body("roles", equalTo(java.util.List.of("gateway-user")))
                .body("key", startsWith("cg_"))
                .extract().path("key");
        ApiKeyFormat.Parsed parsed = ApiKeyFormat.parse(key).orElseThrow();

        given().header("Authorization", bearer("acme-eu-admin")).get("/admin/api-keys").then()
                .statusCode(200)
                .body("data.prefix", hasItem(parsed.prefix()))
                .body("data", everyItem(not(hasKey("key"))));
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT * FROM api_keys WHERE prefix = ?")) {
            ps.setString(1, parsed.prefix());
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                int columns = rs.getMetaData().getColumnCount();
                for (int i = 1; i <= columns; i++) {
                    String value = rs.getString(i);
                    assertFalse(value != null && value.contains(parsed.secret()), "secret stored in column " + i);
                }
                assertEquals(ApiKeyFormat.hash(parsed.secret()), rs.getString("secret_hash"));
            }
        }
    }

    @Test
    void createdKeyAuthenticatesThroughThePipelineWithItsTenantAndRoles() {
        String key = create("globex-us-admin", "{\"name\":\"svc\",\"roles\":[\"gateway-user\"]}")
                .statusCode(201).extract().path("key");

        var result = pipeline.call("Bearer " + key);

        assertEquals(200, result.status(), () -> "refused: " + result.error());
        Principal principal = result.exchange().require(Principal.KEY);
        assertEquals("globex-us", principal.tenant());
        assertEquals(Set.of(Roles.GATEWAY_USER), principal.roles());
        assertEquals(Principal.AuthMethod.API_KEY, principal.authMethod());
    }

    @Test
    void revokedKeyIsRefusedWithoutReachingTheEngine() {
        var created = create("acme-eu-admin", "{\"name\":\"to revoke\",\"roles\":[\"gateway-user\"]}").statusCode(201);
        String key = created.extract().path("key");
        String id = created.extract().path("id");
        assertEquals(200, pipeline.call("Bearer " + key).status());

        given().header("Authorization", bearer("acme-eu-admin")).delete("/admin/api-keys/" + id).then()
                .statusCode(200).body("revoked_at", notNullValue()).body("key", nullValue());
        int callsBefore = pipeline.engineCalls.get();
        var result = pipeline.call("Bearer " + key);

        assertEquals(401, result.status());
        assertEquals("api_key_revoked", result.error().code());
        assertEquals(callsBefore, pipeline.engineCalls.get());
        assertEquals("authenticate", result.seenByAudit().stoppedBy());
    }

    @Test
    void expiredKeyIsRefused() {
        ApiKeyFormat.Parsed parsed = ApiKeyFormat.generate();
        Instant past = Instant.now().minus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        store.insert(new ApiKey(UUID.randomUUID().toString(), parsed.prefix(), "acme-eu", "old", Set.of("gateway-user"),
                "test", past.minus(1, ChronoUnit.DAYS), past, null, null), ApiKeyFormat.hash(parsed.secret()));

        var result = pipeline.call("Bearer " + parsed.full());

        assertEquals(401, result.status());
        assertEquals("api_key_expired", result.error().code());
        assertEquals(0, pipeline.engineCalls.get());
    }

    @Test
    void keyWithAWrongSecretOrUnknownPrefixIsRefused() {
        String key = create("acme-eu-admin", "{\"name\":\"x\",\"roles\":[\"gateway-user\"]}").statusCode(201)
                .extract().path("key");
        String wrongSecret = key.substring(0, key.length() - 1) + (key.endsWith("0") ? "1" : "0");

        assertEquals("invalid_api_key", pipeline.call("Bearer " + wrongSecret).error().code());
        assertEquals("invalid_api_key", pipeline.call("Bearer " + ApiKeyFormat.generate().full()).error().code());
        assertEquals(0, pipeline.engineCalls.get());
    }

    @Test
    void adminOfOneTenantCannotReadOrRevokeAnotherTenantsKey() {
        String id = create("acme-eu-admin", "{\"name\":\"acme only\",\"roles\":[\"gateway-user\"]}").statusCode(201)
                .extract().path("id");

        assertOpenAiError(given().header("Authorization", bearer("globex-us-admin")).get("/admin/api-keys/" + id)
                .then(), 403, "tenant_mismatch");
        assertOpenAiError(given().header("Authorization", bearer("globex-us-admin")).delete("/admin/api-keys/" + id)
                .then(), 403, "tenant_mismatch");
        given().header("Authorization", bearer("globex-us-admin")).get("/admin/api-keys").then()
                .statusCode(200).body("data.id", not(hasItem(id)));
        given().header("Authorization", bearer("acme-eu-admin")).get("/admin/api-keys/" + id).then()
                .statusCode(200).body("revoked_at", nullValue());
    }

    @Test
    void adminCannotCreateAKeyForAnotherTenantByNamingItInTheBody() {
        assertOpenAiError(create("globex-us-admin",
                "{\"name\":\"sneaky\",\"roles\":[\"gateway-user\"],\"tenant\":\"acme-eu\"}"), 403, "tenant_mismatch");
    }

    @Test
    void apiKeyOfOneTenantCannotAdministerAnotherTenantsKeys() {
        String globexAdminKey = create("globex-us-admin", "{\"name\":\"admin svc\",\"roles\":[\"gateway-admin\"]}")
                .statusCode(201).extract().path("key");
        String acmeKeyId = create("acme-eu-admin", "{\"name\":\"target\",\"roles\":[\"gateway-user\"]}")
                .statusCode(201).extract().path("id");

        assertOpenAiError(given().header("Authorization", "Bearer " + globexAdminKey)
                .delete("/admin/api-keys/" + acmeKeyId).then(), 403, "tenant_mismatch");
    }

    @Test
    void userWithoutTheGatewayAdminRoleCannotManageKeys() {
        assertOpenAiError(create("acme-eu-user", "{\"name\":\"x\",\"roles\":[\"gateway-user\"]}"), 403, "missing_role");
        assertOpenAiError(given().header("Authorization", bearer("acme-eu-policy-admin")).get("/admin/api-keys")
                .then(), 403, "missing_role");
    }

    @Test
    void keyCannotGrantARoleItsCreatorDoesNotHold() {
        assertOpenAiError(create("acme-eu-admin", "{\"name\":\"x\",\"roles\":[\"auditor\"]}"), 403, "role_not_held");
        assertOpenAiError(create("acme-eu-admin", "{\"name\":\"x\",\"roles\":[\"root\"]}"), 400, "invalid_value");
    }

    @Test
    void keyLifetimeIsBounded() {
        assertOpenAiError(create("acme-eu-admin", "{\"name\":\"x\",\"roles\":[\"gateway-user\"],\"expires_in_days\":4000}"),
                400, "invalid_value");
        assertOpenAiError(create("acme-eu-admin", "{\"name\":\"x\",\"roles\":[\"gateway-user\"],\"expires_in_days\":0}"),
                400, "invalid_value");
    }

    @Test
    void adminEndpointsAnswerMissingOrBadCredentialsThemselvesInOpenAiShape() {
        var missing = given().get("/admin/api-keys").then();
        assertOpenAiError(missing, 401, "missing_credentials");
        missing.header("WWW-Authenticate", startsWith("Bearer"));
        assertOpenAiError(given().header("Authorization", "Bearer garbage.token.here").get("/admin/api-keys").then(),
                401, "invalid_token");
        assertOpenAiError(given().header("Authorization", "Basic YWRtaW46YWRtaW4=").get("/admin/api-keys").then(),
                401, "invalid_authorization_header");
    }

    @Test
    void malformedBodyIsAnsweredInOpenAiShape() {
        assertOpenAiError(create("acme-eu-admin", "{not json"), 400, "invalid_json");
    }

    @Test
    void sqlInjectionInTheKeyIdFindsNothingAndChangesNothing() {
        String id = create("acme-eu-admin", "{\"name\":\"kept\",\"roles\":[\"gateway-user\"]}").statusCode(201)
                .extract().path("id");

        given().header("Authorization", bearer("acme-eu-admin")).urlEncodingEnabled(true)
                .delete("/admin/api-keys/{id}", "x' OR '1'='1").then()
                .statusCode(404).body("error.message", not(containsString("OR")));
        given().header("Authorization", bearer("acme-eu-admin")).get("/admin/api-keys/" + id).then()
                .statusCode(200).body("revoked_at", nullValue());
    }
}
