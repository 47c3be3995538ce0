package io.cleargate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.apikey.ApiKeyFormat;
import io.cleargate.identity.apikey.ApiKeyService;
import io.cleargate.tenant.TenantRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * bin/cleargate up sets cleargate.dev.create-key=true: the gateway then creates the development
 * tenant and a key holding every role, and writes the key to the data directory, readable only by
 * its owner. (No Keycloak here on purpose: development works with API keys alone.)
 */
@QuarkusTest
@TestProfile(DevKeyGeneratedIT.Profile.class)
class DevKeyGeneratedIT {

    static final Path KEY_FILE = Path.of("target/dev-key-it/" + ProcessHandle.current().pid() + "/dev-key");

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("cleargate.dev.create-key", "true", "cleargate.dev.key-file", KEY_FILE.toString());
        }
    }

    @Inject
    ApiKeyService keys;

    @Inject
    TenantRegistry tenants;

    @Inject
    Authenticator authenticator;

    @Test
    void startupWritesAKeyHoldingEveryRoleToAFileOnlyItsOwnerCanRead() throws Exception {
        assertTrue(Files.isRegularFile(KEY_FILE), "no key file at " + KEY_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(KEY_FILE)));
        String key = Files.readString(KEY_FILE).strip();
        assertTrue(ApiKeyFormat.parse(key).isPresent(), "the file does not hold a key in the cg_ format");

        Principal principal = keys.verify(key);

        assertEquals("dev", principal.tenant());
        assertEquals(new HashSet<>(Roles.ALL), principal.roles());
        assertTrue(tenants.find("dev").orElseThrow().active());
    }

    @Test
    void tokensAreRefusedWith503WhileKeycloakIsUnreachableButApiKeysStillWork() throws Exception {
        var generator = java.security.KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        var jws = new org.jose4j.jws.JsonWebSignature();
        jws.setPayload("{\"sub\":\"x\",\"tenant\":\"dev\"}");
        jws.setAlgorithmHeaderValue("RS256");
        jws.setKey(generator.generateKeyPair().getPrivate());
        String token = jws.getCompactSerialization();

        var refused = org.junit.jupiter.api.Assertions.assertThrows(io.cleargate.pipeline.GatewayException.class,
                () -> authenticator.authenticate("Bearer " + token));

        assertEquals(503, refused.error().status(), refused.error()::toString);
        assertEquals("identity_provider_unavailable", refused.error().code());
        assertEquals("dev", authenticator.authenticate("Bearer " + Files.readString(KEY_FILE).strip()).tenant());
    }

    /** Forged tokens are bad credentials, not an outage: 401 without asking the unreachable Keycloak. */
    @Test
    void unsignedAndMalformedTokensAre401EvenWhileKeycloakIsUnreachable() throws Exception {
        var b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        String claims = b64.encodeToString("{\"sub\":\"x\",\"tenant\":\"dev\"}".getBytes());
        var hs256 = new org.jose4j.jws.JsonWebSignature();
        hs256.setPayload("{\"sub\":\"x\",\"tenant\":\"dev\"}");
        hs256.setAlgorithmHeaderValue("HS256");
        hs256.setKey(new javax.crypto.spec.SecretKeySpec(new byte[32], "HmacSHA256"));
        for (String token : java.util.List.of(
                b64.encodeToString("{\"alg\":\"none\"}".getBytes()) + "." + claims + ".",
                b64.encodeToString("{\"alg\":\"RS256\"}".getBytes()) + "." + claims + ".",
                b64.encodeToString("{\"alg\":\"RS256\"}".getBytes()) + ".bm90IGpzb24.c2ln",
                "bm90.YXQ.YWxs", hs256.getCompactSerialization())) {
            var refused = org.junit.jupiter.api.Assertions.assertThrows(io.cleargate.pipeline.GatewayException.class,
                    () -> authenticator.authenticate("Bearer " + token), token);
            assertEquals(401, refused.error().status(), token + ": " + refused.error());
            assertEquals("invalid_token", refused.error().code(), token);
        }
    }
}
