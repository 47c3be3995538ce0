package io.cleargate.audit;

import jakarta.persistence.AttributeConverter;
import jakarta.persistence.Converter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * How an entry's body is kept in the {@code body} column: {@code "z1:"} and the base64 of the
 * canonical JSON deflated (raw DEFLATE, RFC 1951) with {@link #DICTIONARY} preset. Bodies are
 * about 1.5 KB of JSON whose keys repeat in every record; with the dictionary they store in about
 * a fifth of that. The column stays text, so rows written before (plain JSON, which always starts
 * with "{") read back unchanged and no data migration is needed.
 *
 * <p>The chain hashes the canonical JSON, never this stored form: {@code body_sha256} is computed
 * before encoding and checked after decoding, and exports carry the JSON itself, so offline
 * verification does not know this encoding exists. A stored value that does not decode (edited in
 * the database) reads as text that cannot match its hash, never as an exception.
 *
 * <p>{@code @Immutable}: bodies are Strings. Without it Hibernate treats converted values as
 * mutable and snapshots and dirty-checks each entity through this converter (a deflate and an
 * inflate per record and flush), which cut the writer's throughput by 40%.
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

    /** Bodies encoded ahead by the callers; taken when the writer flushes them. */
    private static final java.util.concurrent.ConcurrentHashMap<String, String> PREPARED =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Beyond this many waiting, bodies are encoded at flush instead (bounded memory). */
    private static final int MAX_PREPARED = 4096;

    /**
     * Encodes a body on the caller's thread, so the single audit writer only looks it up when it
     * flushes. Equal JSON has an equal encoding, so a body prepared twice is still right.
     */
    static void prepare(String json) {
        if (json != null && PREPARED.size() < MAX_PREPARED) {
            PREPARED.put(json, encode(json));
        }
    }

    /** Drops what was prepared and never flushed (the writer calls it when idle). */
    static void forgetPrepared() {
        PREPARED.clear();
    }

    @Override
    public String convertToDatabaseColumn(String json) {
        if (json == null) {
            return null;
        }
        String prepared = PREPARED.remove(json);
        return prepared != null ? prepared : encode(json);
    }

    @Override
    public String convertToEntityAttribute(String stored) {
        return stored == null ? null : decode(stored);
    }

    static String encode(String json) {
        return PREFIX + Base64.getEncoder().encodeToString(deflate(json.getBytes(StandardCharsets.UTF_8), DICTIONARY_BYTES));
    }

    /** The JSON of a stored body; a plain (older) body as it is; undecodable text as it is, so it fails its hash. */
    static String decode(String stored) {
        if (!stored.startsWith(PREFIX)) {
            return stored;
        }
        try {
            byte[] packed = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
            return new String(inflate(packed, DICTIONARY_BYTES), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException | DataFormatException e) {
            return stored;
        }
    }

    /** Raw DEFLATE of {@code data}, with {@code dictionary} preset when not null. */
    static byte[] deflate(byte[] data, byte[] dictionary) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            if (dictionary != null) {
                deflater.setDictionary(dictionary);
            }
            deflater.setInput(data);
            deflater.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 3 + 64);
            byte[] buffer = new byte[Math.min(64 * 1024, data.length + 64)];
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    /** Reverses {@link #deflate}. */
    static byte[] inflate(byte[] packed, byte[] dictionary) throws DataFormatException {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(packed);
            if (dictionary != null) {
                // Raw streams carry no dictionary id: set it before the first inflate call.
                inflater.setDictionary(dictionary);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(packed.length * 4 + 64);
            byte[] buffer = new byte[16 * 1024];
            while (!inflater.finished()) {
                int n = inflater.inflate(buffer);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new DataFormatException("truncated");
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } finally {
            inflater.end();
        }
    }
}
