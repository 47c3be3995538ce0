package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Verifies an OPA bundle's signature the way OPA does before it activates a bundle, so the gateway
 * never takes tenants, moderation profiles or policy files from a bundle OPA would refuse.
 *
 * <p>OPA's format: {@code .signatures.json} holds {@code {"signatures": [JWT]}}, exactly one compact
 * JWS signed with the bundle signing key, whose payload lists every file of the bundle with its
 * digest ({@code {"files": [{"name", "hash", "algorithm"}]}}). A structured file ({@code data.json},
 * {@code .manifest}) is hashed in a canonical form (objects' keys sorted, no whitespace, numbers as
 * written), anything else byte for byte. A bundle is accepted only when the JWS verifies with the
 * configured public key and algorithm (the header cannot choose another), every file but
 * {@code .signatures.json} is listed with a matching digest, and every listed file is present.
 */
public final class BundleSignature {

    /** Why a bundle was refused. Messages name files and algorithms, never key material or tokens. */
    public static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    static final String SIGNATURES_FILE = ".signatures.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final Map<String, String> JWS = Map.of(
            "RS256", "SHA256withRSA", "RS384", "SHA384withRSA", "RS512", "SHA512withRSA",
            "ES256", "SHA256withECDSAinP1363Format", "ES384", "SHA384withECDSAinP1363Format",
            "ES512", "SHA512withECDSAinP1363Format");
    /** File digests OPA offers that are still collision resistant; MD5 and SHA-1 are refused. */
    private static final Set<String> DIGESTS = Set.of("SHA-256", "SHA-384", "SHA-512");
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private final PublicKey key;
    private final String algorithm;

    private BundleSignature(PublicKey key, String algorithm) {
        this.key = key;
        this.algorithm = algorithm;
    }

    /**
     * A verifier for one public key (PEM, {@code -----BEGIN PUBLIC KEY-----}) and JWS algorithm
     * (RS256/384/512, ES256/384/512). A private key is refused: only the public half belongs where
     * bundles are verified.
     */
    public static BundleSignature of(String pem, String algorithm) {
        if (!JWS.containsKey(algorithm)) {
            throw new IllegalArgumentException("bundle signing algorithm '" + algorithm + "' is not one of " + new TreeSet<>(JWS.keySet()));
        }
        Matcher m = PEM.matcher(pem);
        if (!m.find()) {
            throw new IllegalArgumentException("the bundle verification key is not a PEM public key");
        }
        if (m.group(1).contains("PRIVATE")) {
            throw new IllegalArgumentException("the bundle verification key is a private key; give the gateway only its"
                    + " public half (openssl pkey -pubout), the private key stays with whoever signs bundles");
        }
        if (!m.group(1).equals("PUBLIC KEY")) {
            throw new IllegalArgumentException("the bundle verification key is a PEM " + m.group(1) + ", not a PUBLIC KEY");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(2).strip());
        String family = algorithm.startsWith("RS") ? "RSA" : "EC";
        try {
            PublicKey key = KeyFactory.getInstance(family).generatePublic(new X509EncodedKeySpec(der));
            boolean fits = family.equals("RSA") ? key instanceof RSAPublicKey : key instanceof ECPublicKey;
            if (!fits) {
                throw new IllegalArgumentException("the bundle verification key is not an " + family + " key, as " + algorithm + " needs");
            }
            return new BundleSignature(key, algorithm);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the bundle verification key is not an " + family + " public key, as "
                    + algorithm + " needs");
        }
    }

    /**
     * Checks the signature and every file of a bundle ({@code entries}: path to content, as unpacked);
     * returns the verified revision-independent file list (names, sorted). Throws {@link Refused} on the
     * first failure.
     */
    public List<String> verify(Map<String, byte[]> entries) throws Refused {
        byte[] signatures = entries.get(SIGNATURES_FILE);
        if (signatures == null) {
            throw new Refused("the bundle is not signed (no " + SIGNATURES_FILE + ")");
        }
        Map<String, Digest> signed = signedFiles(signatures);
        Set<String> unlisted = new TreeSet<>();
        for (var entry : entries.entrySet()) {
            String name = entry.getKey();
            if (name.equals(SIGNATURES_FILE)) {
                continue;
            }
            Digest expected = signed.get(name);
            if (expected == null) {
                unlisted.add(name);
                continue;
            }
            byte[] actual = digest(name, entry.getValue(), expected.algorithm());
            if (!MessageDigest.isEqual(actual, expected.hash())) {
                throw new Refused("file " + name + " does not match its signed digest (changed after signing)");
            }
        }
        if (!unlisted.isEmpty()) {
            throw new Refused("file(s) " + unlisted + " are not covered by the signature (added after signing)");
        }
        Set<String> missing = new TreeSet<>(signed.keySet());
        missing.removeAll(entries.keySet());
        if (!missing.isEmpty()) {
            throw new Refused("signed file(s) " + missing + " are missing from the bundle (removed after signing)");
        }
        return List.copyOf(new TreeSet<>(signed.keySet()));
    }

    private record Digest(String algorithm, byte[] hash) {
    }

    /** The files the JWS in .signatures.json lists, once its signature has verified. */
    private Map<String, Digest> signedFiles(byte[] signaturesJson) throws Refused {
        JsonNode config;
        try {
            config = JSON.readTree(signaturesJson);
        } catch (IOException e) {
            throw new Refused(SIGNATURES_FILE + " is not JSON");
        }
        if (config == null || !config.path("signatures").isArray()) {
            throw new Refused(SIGNATURES_FILE + " has no signatures list");
        }
        if (!config.path("plugin").asText("").isEmpty()) {
            throw new Refused(SIGNATURES_FILE + " names a signing plugin, which the gateway does not run");
        }
        if (config.path("signatures").size() != 1) {
            throw new Refused(SIGNATURES_FILE + " must hold exactly one signature, not " + config.path("signatures").size());
        }
        String token = config.path("signatures").get(0).asText("");
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new Refused("the signature is not a compact JWS");
        }
        JsonNode header = decodeJson(parts[0], "header");
        if (!algorithm.equals(header.path("alg").asText())) {
            throw new Refused("the signature's algorithm '" + header.path("alg").asText() + "' is not the configured " + algorithm);
        }
        if (header.has("crit")) {
            throw new Refused("the signature's header has critical extensions the gateway does not know");
        }
        try {
            Signature verifier = Signature.getInstance(JWS.get(algorithm));
            verifier.initVerify(key);
            verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!verifier.verify(base64Url(parts[2], "signature"))) {
                throw new Refused("the signature does not verify with the configured bundle verification key");
            }
        } catch (GeneralSecurityException e) {
            throw new Refused("the signature does not verify with the configured bundle verification key");
        }
        JsonNode payload = decodeJson(parts[1], "payload");
        // OPA compares the signed scope with the configured one; the gateway, like the sidecar, configures none.
        if (!payload.path("scope").asText("").isEmpty()) {
            throw new Refused("the signature is scoped to '" + payload.path("scope").asText() + "'; none is configured");
        }
        Map<String, Digest> files = new LinkedHashMap<>();
        for (JsonNode file : payload.path("files")) {
            String name = normalise(file.path("name").asText(""));
            String alg = file.path("algorithm").asText("");
            if (name.isEmpty() || !DIGESTS.contains(alg)) {
                throw new Refused("signed file entry '" + name + "' has no usable digest algorithm ('" + alg + "')");
            }
            byte[] hash;
            try {
                hash = HexFormat.of().parseHex(file.path("hash").asText(""));
            } catch (IllegalArgumentException e) {
                throw new Refused("signed file entry '" + name + "' has a malformed digest");
            }
            if (files.put(name, new Digest(alg, hash)) != null) {
                throw new Refused("the signature lists " + name + " twice");
            }
        }
        if (files.isEmpty()) {
            throw new Refused("the signature lists no files");
        }
        return files;
    }

    static String normalise(String name) {
        String n = name.startsWith("./") ? name.substring(2) : name;
        return n.startsWith("/") ? n.substring(1) : n;
    }

    private static JsonNode decodeJson(String part, String what) throws Refused {
        try {
            JsonNode node = JSON.readTree(base64Url(part, what));
            if (node == null || !node.isObject()) {
                throw new Refused("the signature's " + what + " is not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new Refused("the signature's " + what + " is not JSON");
        }
    }

    private static byte[] base64Url(String part, String what) throws Refused {
        try {
            return Base64.getUrlDecoder().decode(part);
        } catch (IllegalArgumentException e) {
            throw new Refused("the signature's " + what + " is not base64url");
        }
    }

    /** OPA's file digest: structured documents in canonical form, anything else as bytes. */
    static byte[] digest(String name, byte[] content, String algorithm) throws Refused {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (GeneralSecurityException e) {
            throw new Refused("digest " + algorithm + " is not available");
        }
        String base = name.substring(name.lastIndexOf('/') + 1);
        if (base.equals("data.yaml")) {
            throw new Refused("file " + name + ": YAML data is not accepted in a bundle the gateway reads");
        }
        if (base.equals("data.json") || base.equals(".manifest")) {
            try {
                return md.digest(canonicalJson(content));
            } catch (IOException | IllegalArgumentException e) {
                throw new Refused("file " + name + " is not valid JSON");
            }
        }
        return md.digest(content);
    }

    /**
     * The canonical JSON OPA hashes: every object's keys sorted by their UTF-8 bytes (a repeated key
     * keeps its last value), no whitespace, numbers exactly as written, strings escaped as Go's
     * encoder does with HTML escaping off.
     */
    static byte[] canonicalJson(byte[] json) throws IOException {
        try (JsonParser parser = FACTORY.createParser(json)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new IOException("empty document");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(json.length);
            out.writeBytes(canonicalValue(parser, first));
            if (parser.nextToken() != null) {
                throw new IOException("trailing content");
            }
            return out.toByteArray();
        }
    }

    private static byte[] canonicalValue(JsonParser parser, JsonToken token) throws IOException {
        switch (token) {
            case START_OBJECT -> {
                Map<byte[], byte[]> members = new TreeMap<>(Arrays::compareUnsigned);
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
                    byte[] key = quoted(parser.currentName());
                    members.put(key, canonicalValue(parser, parser.nextToken()));
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write('{');
                boolean first = true;
                for (var member : members.entrySet()) {
                    if (!first) {
                        out.write(',');
                    }
                    first = false;
                    out.writeBytes(member.getKey());
                    out.write(':');
                    out.writeBytes(member.getValue());
                }
                out.write('}');
                return out.toByteArray();
            }
            case START_ARRAY -> {
                List<byte[]> items = new ArrayList<>();
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
                    items.add(canonicalValue(parser, t));
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write('[');
                for (int i = 0; i < items.size(); i++) {
                    if (i > 0) {
                        out.write(',');
                    }
                    out.writeBytes(items.get(i));
                }
                out.write(']');
                return out.toByteArray();
            }
            case VALUE_STRING -> {
                return quoted(parser.getText());
            }
            // The literal as written: OPA decodes numbers as json.Number and re-encodes the same text.
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> {
                return parser.getText().getBytes(StandardCharsets.US_ASCII);
            }
            default -> throw new IOException("unexpected " + token);
        }
    }

    /** A string as Go's encoding/json writes it with SetEscapeHTML(false). */
    static byte[] quoted(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\u2028' -> b.append("\\u2028");
                case '\u2029' -> b.append("\\u2029");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        b.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        // Go decodes a lone surrogate escape to U+FFFD.
                        b.append('\uFFFD');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString().getBytes(StandardCharsets.UTF_8);
    }
}
