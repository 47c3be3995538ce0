package io.cleargate.audit;

import jakarta.persistence.AttributeConverter;
import jakarta.persistence.Converter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * How an entry's body is kept in the {@code body} column: {@code "z1:"} and the base64 of the
 * canonical JSON deflated (raw DEFLATE, RFC 1951) with {@link #DICTIONARY} preset. Bodies are
 * about 1.5 KB of JSON whose keys repeat in every record; with the dictionary they store in about
 * a third of that. The column stays text, so rows written before (plain JSON, which always starts
 * with "{") read back unchanged and no data migration is needed.
 *
 * <p>The chain hashes the canonical JSON, never this stored form: {@code body_sha256} is computed
 * before encoding and checked after decoding, and exports carry the JSON itself, so offline
 * verification does not know this encoding exists. A stored value that does not decode (edited in
 * the database) reads as text that cannot match its hash, never as an exception.
 *
 * <p>The audit writer inserts rows with plain JDBC and calls {@link #encode(byte[])} itself (on
 * its callers' threads); the converter serves reads and the rare write through Hibernate.
 * {@code @Immutable}: bodies are Strings. Without it Hibernate treats converted values as mutable
 * and snapshots and dirty-checks each entity through this converter (a deflate and an inflate per
 * record and flush).
 */
@Converter
@org.hibernate.annotations.Immutable
public class StoredBody implements AttributeConverter<String, String> {

    static final String PREFIX = "z1:";

    /**
     * The z1 preset dictionary: the members and values most bodies repeat, in canonical order.
     * Part of the stored format: never change it, add a "z2" with a new one instead
     * ({@code StoredBodyTest} pins its hash).
     */
    static final String DICTIONARY = """
            {"content":{"field":"prompt","key_id":,"mode":"encrypted","sha256":"\
            "},"email":null,"endpoint":"chat.completions","kind":"admin","details":{"action":"actor":\
            "model":"parameters":{"max_tokens":"temperature":"top_p":},"policy":{"allow":true,"bundle_revision":\
            "content_mode":"hash-only","redacted","decision_id":"reasons":[{"code":"message":"}],"regions":["eu","us"]},\
            "policy_input":{"context":{"time":"},"request":{"endpoint":"chat.completions","estimated_prompt_tokens":\
            "max_tokens":"model":"stream":false},"subject":{"auth_method":"api_key","id":"roles":["gateway-user"]},\
            "tenant":"usage":{"key":{"cost_nanos":0,"tokens":},"period":"tenant":{"cost_nanos":0,"tokens":}}},\
            "received_at":"request_id":"retention_days":{"content":30,"metadata":365},"route":{"backend":\
            "jurisdiction":"EU","region":"eu"},"state":"in_progress","stream":false,"subject":"tenant":"time":\
            "username":"v":1,"verdicts":[{"action":"block","category":"pii","direction":"input","end":"rule_id":\
            "score":"start":}],"auth_method":"api_key","client_address":"127.0.0.1","content":{"field":"output",\
            "key_id":,"mode":"encrypted","latency_ms":{"total":"ttft":},"model_refusal":{"kind":"none","score":0.0,\
            "span":null,"action":"flagged":false},"outcome":{"complete":true,"error_code":null,"error_type":null,\
            "finish_reason":"stop","status":200,"stopped_by":null},"usage":{"completion_tokens":"cost_nanos":0,\
            "currency":null,"estimated":false,"prompt_tokens":},"state":"complete","stream":false,"subject":"key:",\
            "tenant":"time":"2026-\
            """;

    private static final byte[] DICTIONARY_BYTES = DICTIONARY.getBytes(StandardCharsets.UTF_8);

    @Override
    public String convertToDatabaseColumn(String json) {
        if (json == null) {
            return null;
        }
        return encode(json);
    }

    @Override
    public String convertToEntityAttribute(String stored) {
        return stored == null ? null : decode(stored);
    }

    static String encode(String json) {
        return encode(json.getBytes(StandardCharsets.UTF_8));
    }

    /** The stored form of a body given as its UTF-8 bytes (the audit writer's callers have them from hashing). */
    static String encode(byte[] utf8) {
        return PREFIX + Base64.getEncoder().encodeToString(deflate(utf8, DICTIONARY_BYTES));
    }

    /** The JSON of a stored body; a plain (older) body as it is; undecodable text as it is, so it fails its hash. */
    static String decode(String stored) {
        byte[] json = inflated(stored);
        return json == null ? stored : new String(json, StandardCharsets.UTF_8);
    }

    /** The UTF-8 bytes of the JSON of a stored body (what its hash covers), as {@link #decode} reads it. */
    static byte[] decodeBytes(String stored) {
        byte[] json = inflated(stored);
        return json == null ? stored.getBytes(StandardCharsets.UTF_8) : json;
    }

    /** The inflated JSON of a stored body in the z1 form; null for any other text. */
    private static byte[] inflated(String stored) {
        if (!stored.startsWith(PREFIX)) {
            return null;
        }
        try {
            return inflate(Base64.getDecoder().decode(stored.substring(PREFIX.length())), DICTIONARY_BYTES);
        } catch (IllegalArgumentException | DataFormatException e) {
            return null;
        }
    }

    /**
     * Checks stored bodies against their hashes the way {@code Canonical.sha256(decodeBytes(stored))
     * .equals(sha256)} does, without the body's copies: the JSON is inflated in pieces straight into
     * the digest, and the digest compared with the hex text in place. The checkpoint signer runs it
     * on every record since its last checkpoint; the copies (the base64 text cut out, the inflated
     * body grown and trimmed, the hex of its hash) were a third of what the signer allocated. One
     * thread at a time; {@link #close()} gives the inflater back.
     */
    static final class HashCheck implements AutoCloseable {
        private final java.security.MessageDigest digest;
        private final byte[] piece = new byte[8192];
        private Inflater inflater;

        HashCheck() {
            try {
                digest = java.security.MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** True when the body stored as {@code stored} hashes to {@code sha256} (hex, as the chain keeps it). */
        boolean hashesTo(String stored, String sha256) {
            digest.reset();
            if (!stored.startsWith(PREFIX) || !inflatedInto(stored)) {
                // A plain (older) body, or text that does not decode: hashed as it is, as decodeBytes reads it.
                digest.reset();
                digest.update(stored.getBytes(StandardCharsets.UTF_8));
            }
            return sameHex(digest.digest(), sha256);
        }

        /** Inflates a z1 body into the digest; false (the digest then holds a part) when it does not decode. */
        private boolean inflatedInto(String stored) {
            java.nio.ByteBuffer packed;
            try {
                byte[] text = stored.getBytes(StandardCharsets.ISO_8859_1);
                packed = Base64.getDecoder().decode(
                        java.nio.ByteBuffer.wrap(text, PREFIX.length(), text.length - PREFIX.length()));
            } catch (IllegalArgumentException e) {
                return false;
            }
            if (inflater == null) {
                inflater = borrowInflater();
            }
            try {
                inflater.setInput(packed.array(), packed.arrayOffset() + packed.position(), packed.remaining());
                inflater.setDictionary(DICTIONARY_BYTES);
                while (!inflater.finished()) {
                    int got = inflater.inflate(piece, 0, piece.length);
                    if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                        return false; // truncated
                    }
                    digest.update(piece, 0, got);
                }
                return true;
            } catch (DataFormatException e) {
                return false;
            } finally {
                inflater.reset();
            }
        }

        /** True when {@code hex} is exactly the lower-case hex of {@code bytes}, as HexFormat writes it. */
        static boolean sameHex(byte[] bytes, String hex) {
            if (hex == null || hex.length() != bytes.length * 2) {
                return false;
            }
            for (int i = 0; i < bytes.length; i++) {
                if (hex.charAt(2 * i) != HEX_DIGITS[(bytes[i] >> 4) & 0xF]
                        || hex.charAt(2 * i + 1) != HEX_DIGITS[bytes[i] & 0xF]) {
                    return false;
                }
            }
            return true;
        }

        private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();

        @Override
        public void close() {
            if (inflater != null) {
                giveBack(inflater);
                inflater = null;
            }
        }
    }

    /**
     * Encoders and inflaters kept for reuse. A JDK inflater costs some 40 KB of native zlib state
     * set up and torn down, an encoder grows its buffers to its inputs; every request deflates two
     * bodies and usually its content, and the checkpoint signer inflates every body again.
     * Bounded: beyond {@link #KEPT} idle ones, the rest are dropped (inflaters ended).
     */
    private static final int KEPT = 16;
    private static final java.util.concurrent.ConcurrentLinkedQueue<Deflate> IDLE_ENCODERS =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final java.util.concurrent.ConcurrentLinkedQueue<Inflater> IDLE_INFLATERS =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final java.util.concurrent.atomic.AtomicInteger IDLE_ENCODER_COUNT = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicInteger IDLE_INFLATER_COUNT = new java.util.concurrent.atomic.AtomicInteger();

    /** The z1 dictionary's match index, built once. */
    private static final Deflate.Dictionary Z1 = new Deflate.Dictionary(DICTIONARY_BYTES);

    /**
     * Raw DEFLATE of {@code data}, with {@code dictionary} preset when not null: by {@link Deflate}
     * up to its 32 KB (bodies, most content), by the JDK's zlib above that. Both write ordinary
     * DEFLATE, which {@link #inflate} reads whichever wrote it.
     */
    static byte[] deflate(byte[] data, byte[] dictionary) {
        if (data.length > Deflate.MAX_INPUT) {
            return zlibDeflate(data, dictionary);
        }
        Deflate.Dictionary preset = dictionary == null ? null
                : dictionary == DICTIONARY_BYTES ? Z1 : new Deflate.Dictionary(dictionary);
        Deflate encoder = IDLE_ENCODERS.poll();
        if (encoder == null) {
            encoder = new Deflate();
        } else {
            IDLE_ENCODER_COUNT.decrementAndGet();
        }
        byte[] packed = encoder.deflate(data, preset);
        if (IDLE_ENCODER_COUNT.incrementAndGet() <= KEPT) {
            IDLE_ENCODERS.offer(encoder);
        } else {
            IDLE_ENCODER_COUNT.decrementAndGet();
        }
        return packed;
    }

    /** zlib's raw DEFLATE at its default level, for inputs over {@link Deflate#MAX_INPUT}. */
    static byte[] zlibDeflate(byte[] data, byte[] dictionary) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            if (dictionary != null) {
                deflater.setDictionary(dictionary);
            }
            deflater.setInput(data);
            deflater.finish();
            // zlib's bound for raw deflate: stored blocks cost 5 bytes per 16 KB, plus a little.
            byte[] out = new byte[data.length + (data.length >> 12) + 64];
            int n = 0;
            while (!deflater.finished()) {
                if (n == out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2);
                }
                n += deflater.deflate(out, n, out.length - n);
            }
            return java.util.Arrays.copyOf(out, n);
        } finally {
            deflater.end();
        }
    }

    /** Reverses {@link #deflate}. */
    static byte[] inflate(byte[] packed, byte[] dictionary) throws DataFormatException {
        Inflater inflater = borrowInflater();
        try {
            inflater.setInput(packed);
            if (dictionary != null) {
                // Raw streams carry no dictionary id: set it before the first inflate call.
                inflater.setDictionary(dictionary);
            }
            // Straight into the result, grown as needed: bodies inflate to about three times their
            // packed size, and a scratch buffer of 16 KB per call was most of what reading one allocated.
            byte[] out = new byte[packed.length * 4 + 64];
            int n = 0;
            while (!inflater.finished()) {
                if (n == out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2);
                }
                int got = inflater.inflate(out, n, out.length - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new DataFormatException("truncated");
                }
                n += got;
            }
            return n == out.length ? out : java.util.Arrays.copyOf(out, n);
        } finally {
            inflater.reset();
            giveBack(inflater);
        }
    }

    /** An idle raw inflater from the pool, or a new one. */
    private static Inflater borrowInflater() {
        Inflater inflater = IDLE_INFLATERS.poll();
        if (inflater == null) {
            return new Inflater(true);
        }
        IDLE_INFLATER_COUNT.decrementAndGet();
        return inflater;
    }

    /** Back to the pool (reset), or ended when the pool already keeps {@link #KEPT}. */
    private static void giveBack(Inflater inflater) {
        if (IDLE_INFLATER_COUNT.incrementAndGet() <= KEPT) {
            IDLE_INFLATERS.offer(inflater);
        } else {
            IDLE_INFLATER_COUNT.decrementAndGet();
            inflater.end();
        }
    }
}
