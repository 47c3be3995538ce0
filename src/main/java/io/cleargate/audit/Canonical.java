package io.cleargate.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.MapperFeature;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * The canonical encoding and hashes of the chain (documented in audit/README.md):
 * <pre>
 * body        = JSON, object keys sorted, no insignificant whitespace, UTF-8
 * body_sha256 = hex(SHA-256(body))
 * entry_hash  = hex(SHA-256("cleargate-audit-v1|" chain "|" seq "|" prev_hash "|" body_sha256))
 * prev_hash of seq 1 = 64 zeros
 * </pre>
 * The stored body text is what is hashed, so a verifier never re-serialises it.
 */
public final class Canonical {

    public static final String GENESIS = "0".repeat(64);

    /**
     * Jackson's buffers are recycled through a shared pool: its default pool is per thread, and
     * every request runs on a new virtual thread, so each body written allocated fresh buffers
     * (a third of what the audit stage allocated per request).
     */
    static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build())
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    private Canonical() {}

    public static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serialisable: " + e.getOriginalMessage(), e);
        }
    }

    public static Map<String, Object> parse(String json) {
        try {
            return JSON.readValue(json, new TypeReference<>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Text as every database stores it unchanged: NUL (which PostgreSQL refuses in text) and
     * unpaired surrogates (which have no UTF-8 encoding) become U+FFFD. Applied before hashing,
     * so what is stored is exactly what was hashed.
     */
    public static String storable(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
            boolean bad = c == 0 || (!pair && Character.isSurrogate(c));
            if (bad && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : c);
                if (pair) {
                    out.append(text.charAt(i + 1));
                }
            }
            if (pair) {
                i++;
            }
        }
        return out == null ? text : out.toString();
    }

    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256(byte[] bytes) {
        MessageDigest digest = IDLE_DIGESTS.poll();
        if (digest == null) {
            digest = newSha256();
        }
        // digest() hashes and resets, so a digest goes back to the pool clean.
        String hex = HEX.formatHex(digest.digest(bytes));
        IDLE_DIGESTS.offer(digest);
        return hex;
    }

    private static final HexFormat HEX = HexFormat.of();

    /**
     * SHA-256 digests kept for reuse: a request hashes a dozen times (bodies, content, entry
     * hashes, and the signer twice per record), and each {@code getInstance} looked the provider up
     * and built a new digest. The pool holds as many as ever hashed at once (bounded by the
     * requests in flight), a few hundred bytes each.
     */
    private static final java.util.concurrent.ConcurrentLinkedQueue<MessageDigest> IDLE_DIGESTS =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String entryHash(String chain, long seq, String prevHash, String bodySha256) {
        return sha256("cleargate-audit-v1|" + chain + "|" + seq + "|" + prevHash + "|" + bodySha256);
    }
}
