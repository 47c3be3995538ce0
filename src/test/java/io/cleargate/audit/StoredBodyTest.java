package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoredBodyTest {

    private final StoredBody codec = new StoredBody();

    /** A request record's body as the recorder writes it for an API-key request. */
    static String requestBody() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("v", 1);
        body.put("kind", "request");
        body.put("request_id", "2f1c8f5e-6a0b-4c55-9a43-0d2f6e8b1a77");
        body.put("time", "2026-11-30T17:00:01.123Z");
        body.put("received_at", "2026-11-30T17:00:01.120Z");
        body.put("tenant", "dev");
        body.put("subject", "key:0be0c4a7");
        body.put("username", "dev");
        body.put("email", null);
        body.put("auth_method", "api_key");
        body.put("client_address", "127.0.0.1");
        body.put("endpoint", "chat.completions");
        body.put("model", "mock");
        body.put("stream", false);
        body.put("parameters", Map.of("max_tokens", 256));
        body.put("policy", Map.of("allow", true, "reasons", List.of(), "decision_id", "9d1e0c1a-77aa-4b0e-8f43-51d0c2f1e6b9",
                "bundle_revision", "rev-20261130-1", "regions", List.of("eu", "us"), "content_mode", "encrypted"));
        body.put("policy_input", Map.of("tenant", "dev", "subject", Map.of("id", "key:0be0c4a7", "roles", List.of("gateway-user"),
                "auth_method", "api_key"), "request", Map.of("endpoint", "chat.completions", "model", "mock", "stream", false,
                "max_tokens", 256, "estimated_prompt_tokens", 13), "context", Map.of("time", "2026-11-30T17:00:01Z")));
        body.put("verdicts", List.of());
        body.put("route", Map.of("backend", "mock", "region", "eu", "jurisdiction", "EU"));
        body.put("state", "in_progress");
        body.put("content", Map.of("field", "prompt", "mode", "encrypted", "key_id", 1,
                "sha256", Canonical.sha256("ciphertext")));
        body.put("retention_days", Map.of("content", 30, "metadata", 365));
        return Canonical.json(body);
    }

    @Test
    void aBodyReadsBackAsTheSameCanonicalJsonItsHashWasComputedOver() {
        String json = requestBody();
        String stored = codec.convertToDatabaseColumn(json);
        assertTrue(stored.startsWith(StoredBody.PREFIX));
        assertEquals(json, codec.convertToEntityAttribute(stored));
        assertEquals(Canonical.sha256(json), Canonical.sha256(codec.convertToEntityAttribute(stored)));
        // The checkpoint signer hashes the bytes a stored body inflates to, without the String.
        assertEquals(Canonical.sha256(json), Canonical.sha256(StoredBody.decodeBytes(stored)));
        assertEquals(Canonical.sha256(json), Canonical.sha256(StoredBody.decodeBytes(json)), "a plain body");
    }

    @Test
    void reusedDeflatersKeepNoDictionaryOrInputOfTheirPreviousUse() throws Exception {
        // Bodies (with the preset dictionary) and content (without) share the kept deflaters, many
        // threads at once: every output must inflate to its own input, with its own dictionary.
        String body = requestBody();
        byte[] content = ("The quarterly report, summarised in three sentences. ".repeat(40)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var results = new java.util.ArrayList<java.util.concurrent.Future<Boolean>>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    String json = body.replace("2f1c8f5e", String.format("%08x", n));
                    boolean bodyBack = json.equals(StoredBody.decode(StoredBody.encode(json.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
                    byte[] packed = StoredBody.deflate(content, null);
                    return bodyBack && java.util.Arrays.equals(content, StoredBody.inflate(packed, null));
                }));
            }
            for (var r : results) {
                assertTrue(r.get());
            }
        }
    }

    @Test
    void reusedDigestsGiveEveryCallerTheHashOfItsOwnInputAcrossThreads() throws Exception {
        // Canonical keeps SHA-256 digests for reuse: none may carry state from one caller to the next.
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Canonical.sha256("abc"));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Canonical.sha256(""));
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var results = new java.util.ArrayList<java.util.concurrent.Future<Boolean>>();
            for (int i = 0; i < 500; i++) {
                String text = "record " + i + " " + "x".repeat(i % 97);
                results.add(pool.submit(() -> {
                    var expected = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                    return expected.equals(Canonical.sha256(text));
                }));
            }
            for (var r : results) {
                assertTrue(r.get());
            }
        }
    }

    @Test
    void aTypicalRequestBodyIsStoredInAThirdOfItsJson() {
        String json = requestBody();
        String stored = codec.convertToDatabaseColumn(json);
        assertTrue(stored.length() * 3 < json.length(), stored.length() + " stored for " + json.length() + " of JSON");
    }

    @Test
    void textOutsideTheDictionaryRoundTripsToo() {
        String json = Canonical.json(Map.of("kind", "admin", "details", Map.of("note", "Zürich – 東京 😀 " + "x".repeat(70_000))));
        assertEquals(json, codec.convertToEntityAttribute(codec.convertToDatabaseColumn(json)));
    }

    @Test
    void bodiesWrittenBeforeAsPlainJsonReadBackUnchanged() {
        String json = requestBody();
        assertEquals(json, codec.convertToEntityAttribute(json));
        assertNull(codec.convertToEntityAttribute(null));
        assertNull(codec.convertToDatabaseColumn(null));
    }

    @Test
    void bodiesAndContentThatZlibDeflatedBeforeReadBackUnchanged() throws Exception {
        // Until stop 24 every z1 body and all deflated content were written by the JDK's zlib.
        String json = requestBody();
        byte[] utf8 = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String byZlib = StoredBody.PREFIX + java.util.Base64.getEncoder().encodeToString(
                StoredBody.zlibDeflate(utf8, StoredBody.DICTIONARY.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertNotEquals(byZlib, StoredBody.encode(utf8), "a different encoder, a different stored text");
        assertEquals(json, codec.convertToEntityAttribute(byZlib));
        assertEquals(Canonical.sha256(json), Canonical.sha256(StoredBody.decodeBytes(byZlib)));
        byte[] prose = AuditStoreBench.COMPLETION.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(java.util.Arrays.equals(prose, StoredBody.inflate(StoredBody.zlibDeflate(prose, null), null)));
    }

    @Test
    void aStoredBodyEditedInTheDatabaseReadsAsTextThatFailsItsHash() {
        String json = requestBody();
        String stored = codec.convertToDatabaseColumn(json);
        String edited = stored.substring(0, stored.length() - 8) + "AAAAAAAA";
        String read = codec.convertToEntityAttribute(edited);
        assertNotEquals(Canonical.sha256(json), Canonical.sha256(read));
        assertNotEquals(Canonical.sha256(json), Canonical.sha256(StoredBody.decodeBytes(edited)));
        String garbage = StoredBody.PREFIX + "not base64 at all!";
        assertEquals(garbage, codec.convertToEntityAttribute(garbage));
    }

    /**
     * The signer's check, which inflates into the digest without the body's copies, says exactly what
     * hashing {@link StoredBody#decodeBytes} says: for bodies it wrote, plain ones, zlib's, long ones
     * (several pieces), and stored text edited in every way that makes it decode differently or not
     * at all.
     */
    @Test
    void theSignersHashCheckAgreesWithHashingTheDecodedBodyForGoodAndEditedBodies() {
        String json = requestBody();
        byte[] utf8 = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String stored = StoredBody.encode(utf8);
        String byZlib = StoredBody.PREFIX + java.util.Base64.getEncoder().encodeToString(
                StoredBody.zlibDeflate(utf8, StoredBody.DICTIONARY.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        String longJson = Canonical.json(Map.of("text", AuditStoreBench.COMPLETION.repeat(40), "note", "ünï \uD83D\uDE00"));
        String longStored = StoredBody.encode(longJson);
        String packed = stored.substring(StoredBody.PREFIX.length());
        List<String> texts = List.of(stored, byZlib, json, longStored, longJson,
                stored.substring(0, stored.length() - 8) + "AAAAAAAA", // decodes, inflates to other bytes or fails
                stored.substring(0, stored.length() / 2), // truncated deflate stream
                stored + "AAAA", // bytes after the end of the deflate stream
                StoredBody.PREFIX + "not base64 at all!",
                StoredBody.PREFIX + packed.replace('A', '\u0141'), // a character outside Latin-1
                StoredBody.PREFIX, "z1", "", "{}",
                StoredBody.PREFIX + java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}));
        try (var check = new StoredBody.HashCheck()) {
            for (String text : texts) {
                String expected = Canonical.sha256(StoredBody.decodeBytes(text));
                for (String hash : List.of(expected, Canonical.sha256(json), Canonical.sha256(longJson))) {
                    assertEquals(hash.equals(expected), check.hashesTo(text, hash), "stored text " + text + " against " + hash);
                }
                assertEquals(false, check.hashesTo(text, expected.toUpperCase(java.util.Locale.ROOT)),
                        "hashes are compared as the chain keeps them, in lower case");
                assertEquals(false, check.hashesTo(text, expected.substring(1)));
                assertEquals(false, check.hashesTo(text, null));
            }
        }
        assertTrue(new StoredBody.HashCheck().hashesTo(stored, Canonical.sha256(json)));
    }

    /** The dictionary is part of the stored format "z1": editing it would make every stored body unreadable. */
    @Test
    void theZ1DictionaryNeverChanges() {
        assertEquals("52f10647", Canonical.sha256(StoredBody.DICTIONARY).substring(0, 8));
    }

    @Test
    void encryptedContentIsDeflatedOnlyWhenThatMakesItShorter() {
        byte[] prose = AuditStoreBench.COMPLETION.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] packed = Recorder.deflated(prose);
        assertTrue(packed != null && packed.length < prose.length * 0.7, "prose deflates");
        assertNull(Recorder.deflated("short".getBytes()), "too short to gain");
        byte[] random = Keyring.random(4096);
        assertNull(Recorder.deflated(random), "random bytes do not shrink");
    }
}
