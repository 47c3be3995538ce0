package io.cleargate.identity;

import io.cleargate.testsupport.KeycloakServer;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwx.HeaderParameterNames;
import org.jose4j.keys.HmacKey;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.lang.JoseException;

/** Builds tokens the way an attacker would, starting from claims that are valid in every other respect. */
final class TokenForge {

    private final KeycloakServer keycloak;

    TokenForge(KeycloakServer keycloak) {
        this.keycloak = keycloak;
    }

    /** Claims of a gateway-user of acme-eu that the gateway would accept if signed by the realm. */
    JwtClaims validClaims() {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(keycloak.issuer());
        claims.setAudience("cleargate-gateway");
        claims.setSubject("forged-" + UUID.randomUUID());
        claims.setClaim("typ", "Bearer");
        claims.setClaim("azp", "cleargate-gateway");
        claims.setClaim("tenant", "acme-eu");
        claims.setClaim("realm_access", Map.of("roles", List.of("gateway-user", "gateway-admin")));
        Instant now = Instant.now();
        claims.setIssuedAt(org.jose4j.jwt.NumericDate.fromSeconds(now.getEpochSecond()));
        claims.setExpirationTime(org.jose4j.jwt.NumericDate.fromSeconds(now.plusSeconds(300).getEpochSecond()));
        claims.setGeneratedJwtId();
        return claims;
    }

    /** Signed RS256 with the key registered in the realm: its signature verifies. */
    String signedByRealm(JwtClaims claims) {
        return sign(claims, AlgorithmIdentifiers.RSA_USING_SHA256, keycloak.testKey().getPrivate(), keycloak.testKeyId());
    }

    /** Signed RS256 by a key the realm never published, under a kid it does not know. */
    String signedByUnknownKey(JwtClaims claims) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair stranger = generator.generateKeyPair();
            return sign(claims, AlgorithmIdentifiers.RSA_USING_SHA256, stranger.getPrivate(), "attacker-" + UUID.randomUUID());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The algorithm-confusion attack: HS256 keyed with the realm's own RSA public key. */
    String hs256WithRealmPublicKey(JwtClaims claims) {
        byte[] publicKey = keycloak.testKey().getPublic().getEncoded();
        return sign(claims, AlgorithmIdentifiers.HMAC_SHA256, new HmacKey(publicKey), keycloak.testKeyId());
    }

    /** An unsigned token: alg none, empty signature. */
    String unsigned(JwtClaims claims) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.NONE);
        jws.setHeader(HeaderParameterNames.KEY_ID, keycloak.testKeyId());
        jws.setAlgorithmConstraints(AlgorithmConstraints.NO_CONSTRAINTS);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sign(JwtClaims claims, String algorithm, Key key, String kid) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setAlgorithmHeaderValue(algorithm);
        jws.setHeader("typ", "JWT");
        jws.setKeyIdHeaderValue(kid);
        jws.setKey(key);
        jws.setDoKeyValidation(false);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }
}
