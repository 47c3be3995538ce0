package io.cleargate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantRegistry;
import io.cleargate.testsupport.KeycloakServer;
import io.cleargate.testsupport.KeycloakTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Set;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The authenticate and resolve-tenant stages against a real Keycloak: real grants for the good
 * cases, and for each attack a token that is valid in every respect but one, so that each refusal
 * is for the reason under test. Every refusal must be a 401/403 in OpenAI's shape, reach no engine
 * and be visible to audit's onComplete.
 */
@QuarkusTest
@WithTestResource(KeycloakTestResource.class)
class TokenAttacksIT {

    @Inject
    AuthenticateStage authenticate;

    @Inject
    ResolveTenantStage resolveTenant;

    @Inject
    TenantRegistry tenants;

    @Inject
    io.cleargate.pipeline.Pipeline applicationPipeline;

    KeycloakServer keycloak;
    TokenForge forge;
    PipelineHarness pipeline;

    @BeforeEach
    void setUp() {
        keycloak = KeycloakServer.get();
        forge = new TokenForge(keycloak);
        pipeline = new PipelineHarness(authenticate, resolveTenant);
    }

    @Test
    void applicationPipelineStartsWithAuthenticationThenTenantResolution() {
        var stages = applicationPipeline.activeStages();

        assertEquals(io.cleargate.pipeline.StageName.AUTHENTICATE, stages.get(0));
        assertEquals(io.cleargate.pipeline.StageName.RESOLVE_TENANT, stages.get(1));
    }

    @Test
    void userTokenFromPasswordGrantReachesTheEngineWithTenantAndRolesFromItsClaims() {
        var result = pipeline.call("Bearer " + keycloak.passwordToken("acme-eu-admin"));

        assertEquals(200, result.status(), () -> "refused: " + result.error());
        assertEquals("hello", result.text());
        assertEquals(1, pipeline.engineCalls.get());
        Principal principal = result.exchange().require(Principal.KEY);
        assertEquals("acme-eu", principal.tenant());
        assertEquals(Set.of(Roles.GATEWAY_ADMIN, Roles.GATEWAY_USER), principal.roles());
        assertEquals(Principal.AuthMethod.JWT, principal.authMethod());
        assertEquals("EU", result.exchange().require(Tenant.KEY).jurisdiction());
    }

    @Test
    void serviceAccountTokenFromClientCredentialsIsAcceptedForItsOwnTenant() {
        var result = pipeline.call("Bearer " + keycloak.clientCredentialsToken("globex-us-batch",
                "globex-us-batch-dev-secret"));

        assertEquals(200, result.status(), () -> "refused: " + result.error());
        assertEquals("globex-us", result.exchange().require(Principal.KEY).tenant());
        assertEquals("US", result.exchange().require(Tenant.KEY).jurisdiction());
    }

    @Test
    void tokenForgedWithTheRegisteredTestKeyIsAcceptedSoTheAttacksBelowFailForTheirOwnReason() {
        var result = pipeline.call("Bearer " + forge.signedByRealm(forge.validClaims()));

        assertEquals(200, result.status(), () -> "control token refused: " + result.error());
    }

    @Test
    void unsignedTokenWithAlgNoneIsRefused() {
        assertRefused(pipeline.call("Bearer " + forge.unsigned(forge.validClaims())), 401, "invalid_token");
    }

    @Test
    void hs256TokenKeyedWithTheRealmPublicKeyIsRefused() {
        assertRefused(pipeline.call("Bearer " + forge.hs256WithRealmPublicKey(forge.validClaims())), 401,
                "invalid_token");
    }

    @Test
    void tokenSignedUnderAnUnknownKidIsRefused() {
        assertRefused(pipeline.call("Bearer " + forge.signedByUnknownKey(forge.validClaims())), 401, "invalid_token");
    }

    @Test
    void expiredTokenIsRefused() {
        JwtClaims claims = forge.validClaims();
        claims.setIssuedAt(NumericDate.fromSeconds(System.currentTimeMillis() / 1000 - 600));
        claims.setExpirationTime(NumericDate.fromSeconds(System.currentTimeMillis() / 1000 - 300));

        assertRefused(pipeline.call("Bearer " + forge.signedByRealm(claims)), 401, "token_expired");
    }

    @Test
    void realTokenIsRefusedOnceItsOneSecondLifetimeHasPassed() throws InterruptedException {
        String token = keycloak.token(keycloak.issuer(), Map.of("grant_type", "password", "client_id",
                "cleargate-short-lived", "client_secret", "cleargate-short-lived-dev-secret", "username",
                "acme-eu-user", "password", KeycloakServer.PASSWORD), "access_token");
        Thread.sleep(2_500);

        assertRefused(pipeline.call("Bearer " + token), 401, "token_expired");
    }

    @Test
    void tokenNotValidBeforeAFutureTimeIsRefused() {
        JwtClaims claims = forge.validClaims();
        claims.setNotBefore(NumericDate.fromSeconds(System.currentTimeMillis() / 1000 + 600));

        assertRefused(pipeline.call("Bearer " + forge.signedByRealm(claims)), 401, "invalid_token");
    }

    @Test
    void tokenOfAnotherIssuerIsRefused() {
        JwtClaims claims = forge.validClaims();
        claims.setIssuer("http://127.0.0.1:" + keycloak.port() + "/realms/master");

        assertRefused(pipeline.call("Bearer " + forge.signedByRealm(claims)), 401, "invalid_token");
    }

    @Test
    void realTokenIssuedUnderAnotherHostNameIsRefusedForItsIssuer() {
        // Same realm, same signing key, but Keycloak names the issuer after the URL it was reached at.
        String token = keycloak.token("http://localhost:" + keycloak.port() + "/realms/cleargate", Map.of(
                "grant_type", "client_credentials", "client_id", "acme-eu-batch", "client_secret",
                "acme-eu-batch-dev-secret"), "access_token");

        assertRefused(pipeline.call("Bearer " + token), 401, "invalid_token");
    }

    @Test
    void tokenForAnotherAudienceIsRefused() {
        JwtClaims claims = forge.validClaims();
        claims.setAudience("some-other-service");

        assertRefused(pipeline.call("Bearer " + forge.signedByRealm(claims)), 401, "invalid_token");
    }

    @Test
    void realTokenOfAClientWithoutTheGatewayAudienceIsRefused() {
        String token = keycloak.token(keycloak.issuer(), Map.of("grant_type", "password", "client_id",
                "other-service", "client_secret", "other-service-dev-secret", "username", "acme-eu-user",
                "password", KeycloakServer.PASSWORD), "access_token");

        assertRefused(pipeline.call("Bearer " + token), 401, "invalid_token");
    }

    @Test
    void idTokenIsNotAcceptedAsAnAccessToken() {
        String idToken = keycloak.token(keycloak.issuer(), Map.of("grant_type", "password", "client_id",
                KeycloakServer.GATEWAY_CLIENT, "client_secret", KeycloakServer.GATEWAY_SECRET, "username",
                "acme-eu-user", "password", KeycloakServer.PASSWORD, "scope", "openid"), "id_token");

        assertRefused(pipeline.call("Bearer " + idToken), 401, "invalid_token");
    }

    @Test
    void tokenWithoutTenantClaimIsForbidden() {
        assertRefused(pipeline.call("Bearer " + keycloak.passwordToken("no-tenant-user")), 403, "no_tenant");
    }

    @Test
    void tokenOfATenantTheGatewayDoesNotServeIsForbidden() {
        var result = pipeline.call("Bearer " + keycloak.passwordToken("initech-user"));

        assertRefused(result, 403, "unknown_tenant");
        assertEquals("resolve-tenant", result.seenByAudit().stoppedBy());
    }

    @Test
    void tokenOfAnInactiveTenantIsForbidden() {
        tenants.createIfAbsent(new Tenant("dormant-co", "Dormant", "EU", false));
        JwtClaims claims = forge.validClaims();
        claims.setClaim("tenant", "dormant-co");

        assertRefused(pipeline.call("Bearer " + forge.signedByRealm(claims)), 403, "tenant_inactive");
    }

    @Test
    void tenantClaimThatIsNotAPlainIdIsForbidden() {
        JwtClaims claims = forge.validClaims();
        claims.setClaim("tenant", "acme-eu' OR '1'='1");

        assertRefused(pipeline.call("Bearer " + forge.signedByRealm(claims)), 403, "no_tenant");
    }

    @Test
    void missingAuthorizationHeaderIsRefused() {
        assertRefused(pipeline.call(null), 401, "missing_credentials");
    }

    @Test
    void malformedAuthorizationHeadersAreRefused() {
        assertRefused(pipeline.call("Basic YWxpY2U6c2VjcmV0"), 401, "invalid_authorization_header");
        assertRefused(pipeline.call("Bearer"), 401, "invalid_authorization_header");
        assertRefused(pipeline.call("Bearer "), 401, "invalid_authorization_header");
        assertRefused(pipeline.call("Bearer a b"), 401, "invalid_authorization_header");
        assertRefused(pipeline.call("Bearer \u00e9t\u00e9"), 401, "invalid_authorization_header");
        assertRefused(pipeline.call("Bearer " + "a".repeat(20_000)), 401, "invalid_authorization_header");
        assertRefused(pipeline.call("Bearer not-a-jwt"), 401, "invalid_token");
        assertRefused(pipeline.call("Bearer aaaa.bbbb.cccc"), 401, "invalid_token");
        assertRefused(pipeline.call("Bearer cg_short"), 401, "invalid_api_key");
    }

    /** A refusal as the client and audit see it: status, OpenAI error shape, no engine call. */
    private void assertRefused(PipelineHarness.Result result, int status, String code) {
        assertEquals(status, result.status(), () -> "expected " + status + " " + code + ", got " + result.error());
        assertNotNull(result.error());
        assertEquals(code, result.error().code());
        Map<String, Object> body = result.error().toBody();
        @SuppressWarnings("unchecked")
        Map<String, Object> error = (Map<String, Object>) body.get("error");
        assertTrue(error.keySet().containsAll(Set.of("message", "type", "param", "code")), error::toString);
        assertEquals(status == 401 ? "authentication_error" : "permission_error", error.get("type"));
        if (status == 401) {
            assertTrue(result.error().headers().get("WWW-Authenticate").startsWith("Bearer"));
        }
        assertEquals(0, pipeline.engineCalls.get(), "the engine must not be called");
        assertNull(result.exchange().get(Tenant.KEY).filter(t -> status == 401).orElse(null));
        assertNotNull(result.seenByAudit(), "audit's onComplete must run");
        assertEquals(status, result.seenByAudit().status());
        assertEquals(code, result.seenByAudit().error().code());
    }
}
