package io.cleargate.identity.apikey;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The shape of an API key: {@code cg_<prefix>_<secret>}, where the prefix (8 lower-case hex
 * characters) is a public lookup handle and the secret is 32 random bytes in lower-case hex
 * (256 bits). Only SHA-256 of the secret is stored: with that much entropy a fast hash cannot be
 * brute-forced, and verification stays cheap on every request.
 */
public final class ApiKeyFormat {

    public static final String SCHEME = "cg_";
    private static final int PREFIX_BYTES = 4;
    private static final int SECRET_BYTES = 32;
    private static final Pattern KEY = Pattern.compile("cg_([0-9a-f]{8})_([0-9a-f]{64})");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    /** A parsed key. {@link #toString()} never shows the secret. */
    public record Parsed(String prefix, String secret) {
        public String full() {
            return SCHEME + prefix + "_" + secret;
        }

        @Override
        public String toString() {
            return "ApiKey[" + SCHEME + prefix + "_***]";
        }
    }

    private ApiKeyFormat() {}

    /** True when the credential looks like one of our keys (it may still be wrong). */
    public static boolean looksLikeApiKey(String credential) {
        return credential.startsWith(SCHEME);
    }

    public static Optional<Parsed> parse(String candidate) {
        if (candidate == null) {
            return Optional.empty();
        }
        var m = KEY.matcher(candidate);
        return m.matches() ? Optional.of(new Parsed(m.group(1), m.group(2))) : Optional.empty();
    }

    public static Parsed generate() {
        byte[] prefix = new byte[PREFIX_BYTES];
        byte[] secret = new byte[SECRET_BYTES];
        RANDOM.nextBytes(prefix);
        RANDOM.nextBytes(secret);
        return new Parsed(HEX.formatHex(prefix), HEX.formatHex(secret));
    }

    /** Lower-case hex SHA-256 of the secret. */
    public static String hash(String secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
            return HEX.formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    /** Compares hashes in constant time, so response timing says nothing about how close a guess was. */
    public static boolean hashMatches(String secret, String storedHash) {
        return MessageDigest.isEqual(hash(secret).getBytes(StandardCharsets.US_ASCII),
                storedHash.getBytes(StandardCharsets.US_ASCII));
    }
}
