package io.cleargate.audit;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Ed25519 key that signs checkpoints and export headers, and the public keys of the keys it
 * replaced, so evidence signed before a rotation keeps verifying. A key is named by its id: the
 * first 16 hex digits of SHA-256 of the raw 32-byte public key.
 */
final class SigningKeys {

    /** DER prefix of an X.509 SubjectPublicKeyInfo for Ed25519; the raw key follows. */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final KeyPair current;
    private final String currentId;
    private final Map<String, byte[]> known = new LinkedHashMap<>();

    SigningKeys(byte[] seed, Collection<String> previousPublicKeysHex) {
        this.current = fromSeed(seed);
        byte[] x509 = current.getPublic().getEncoded();
        byte[] raw = Arrays.copyOfRange(x509, x509.length - 32, x509.length);
        this.currentId = keyId(raw);
        known.put(currentId, raw);
        for (String hex : previousPublicKeysHex) {
            byte[] previous = HexFormat.of().parseHex(hex.strip().toLowerCase(java.util.Locale.ROOT));
            if (previous.length != 32) {
                throw new IllegalStateException("cleargate.audit.previous-public-keys: each must be 32 bytes of hex");
            }
            known.putIfAbsent(keyId(previous), previous);
        }
    }

    static String keyId(byte[] rawPublicKey) {
        return Canonical.sha256(rawPublicKey).substring(0, 16);
    }

    String currentId() {
        return currentId;
    }

    String currentPublicHex() {
        return HexFormat.of().formatHex(known.get(currentId));
    }

    /** key id → raw public key (hex), current key first. */
    Map<String, String> publicKeysHex() {
        Map<String, String> out = new LinkedHashMap<>();
        known.forEach((id, raw) -> out.put(id, HexFormat.of().formatHex(raw)));
        return out;
    }

    /** Base64 Ed25519 signature by the current key. */
    String sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(current.getPrivate());
            s.update(message);
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** True when {@code keyId} names a known key (current or previous) whose signature this is. */
    boolean verify(String keyId, byte[] message, String signatureBase64) {
        byte[] raw = keyId == null ? null : known.get(keyId);
        if (raw == null || signatureBase64 == null) {
            return false;
        }
        try {
            PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(X509_PREFIX, raw)));
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(message);
            return s.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The JDK derives an Ed25519 key pair from the generator's random bytes: feed it the seed. */
    private static KeyPair fromSeed(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalStateException("cleargate.audit.signing-key must be a 32-byte base64 seed");
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
            g.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
                @Override
                public void nextBytes(byte[] bytes) {
                    System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
                }
            });
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] seed(String base64) {
        return Base64.getDecoder().decode(base64.strip());
    }
}
