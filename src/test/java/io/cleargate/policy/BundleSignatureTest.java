package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.Scratch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The gateway's own check of a policy bundle's signature, on real signatures: the bundle
 * {@code bin/lib/k8s.sh bundle} builds from policies/ (RS256, {@code opa sign}), and small bundles
 * signed by {@code opa sign} with ES256 and awkward JSON. Every tampering OPA refuses is refused here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BundleSignatureTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private Path work;
    private Path shipped;
    private String shippedKey;
    private Map<String, byte[]> shippedEntries;

    @BeforeAll
    void packTheRepositoryPolicyAsTheScriptDoes() throws Exception {
        work = Scratch.dir("cleargate-bundle-sig-");
        shipped = work.resolve("shipped/bundle.tar.gz");
        Files.createDirectories(shipped.getParent());
        run(OpaServer.repoRoot(), Map.of("CLEARGATE_POLICIES_DIR", OpaServer.repoRoot().resolve("policies").toString(),
                "CLEARGATE_BUNDLE_OUT", shipped.toString()), "bash", "bin/lib/k8s.sh", "bundle");
        shippedKey = Files.readString(shipped.resolveSibling("verification-key.pem"));
        shippedEntries = PolicyBundle.untar(Files.readAllBytes(shipped));
    }

    private BundleSignature shippedVerifier() {
        return BundleSignature.of(shippedKey, "RS256");
    }

    private Map<String, byte[]> shippedCopy() {
        return new TreeMap<>(shippedEntries);
    }

    @Test
    void aBundleSignedByTheK8sScriptIsAccepted() throws Exception {
        List<String> files = shippedVerifier().verify(shippedCopy());
        assertTrue(files.contains(".manifest") && files.contains("cleargate/meta/data.json")
                && files.contains("cleargate/tenants/acme-eu/data.json"), files.toString());
        assertEquals(shippedEntries.size() - 1, files.size(), "every file but .signatures.json is signed");
    }

    @Test
    void aTenantFileEditedAfterSigningIsRefused() {
        Map<String, byte[]> entries = shippedCopy();
        String tenant = new String(entries.get("cleargate/tenants/acme-eu/data.json"), StandardCharsets.UTF_8);
        assertTrue(tenant.contains("\"EU\""), tenant);
        entries.put("cleargate/tenants/acme-eu/data.json", tenant.replace("\"EU\"", "\"US\"").getBytes(StandardCharsets.UTF_8));
        var refused = assertThrows(BundleSignature.Refused.class, () -> shippedVerifier().verify(entries));
        assertTrue(refused.getMessage().contains("cleargate/tenants/acme-eu/data.json does not match"), refused.getMessage());
    }

    @Test
    void aReformattedButEqualDataFileIsStillAccepted() throws Exception {
        // OPA hashes data.json in canonical form, so whitespace and key order are not part of what is signed.
        Map<String, byte[]> entries = shippedCopy();
        String path = "cleargate/tenants/acme-eu/data.json";
        entries.put(path, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(JSON.readTree(entries.get(path))));
        assertFalse(java.util.Arrays.equals(entries.get(path), shippedEntries.get(path)));
        shippedVerifier().verify(entries);
    }

    @Test
    void aPolicyFileAddedAfterSigningIsRefused() {
        Map<String, byte[]> entries = shippedCopy();
        entries.put("cleargate/tenants/mallory/data.json", "{\"jurisdiction\":\"US\"}".getBytes(StandardCharsets.UTF_8));
        var refused = assertThrows(BundleSignature.Refused.class, () -> shippedVerifier().verify(entries));
        assertTrue(refused.getMessage().contains("[cleargate/tenants/mallory/data.json] are not covered"), refused.getMessage());
    }

    @Test
    void aSignedFileRemovedAfterSigningIsRefused() {
        Map<String, byte[]> entries = shippedCopy();
        assertTrue(entries.remove("cleargate/moderation/profiles/data.json") != null);
        var refused = assertThrows(BundleSignature.Refused.class, () -> shippedVerifier().verify(entries));
        assertTrue(refused.getMessage().contains("missing from the bundle"), refused.getMessage());
    }

    @Test
    void aBundleWithoutSignatureIsRefused() {
        Map<String, byte[]> entries = shippedCopy();
        entries.remove(".signatures.json");
        var refused = assertThrows(BundleSignature.Refused.class, () -> shippedVerifier().verify(entries));
        assertTrue(refused.getMessage().contains("not signed"), refused.getMessage());
    }

    @Test
    void aBundleSignedWithAnotherKeyIsRefused() throws Exception {
        Path other = work.resolve("other-key.pem");
        run(work, Map.of(), "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other.toString());
        String otherPublic = run(work, Map.of(), "openssl", "pkey", "-in", other.toString(), "-pubout");
        var refused = assertThrows(BundleSignature.Refused.class,
                () -> BundleSignature.of(otherPublic, "RS256").verify(shippedCopy()));
        assertTrue(refused.getMessage().contains("does not verify"), refused.getMessage());
    }

    @Test
    void aSignatureWhoseHeaderNamesAnotherAlgorithmIsRefused() throws Exception {
        Map<String, byte[]> entries = shippedCopy();
        String token = JSON.readTree(entries.get(".signatures.json")).path("signatures").get(0).asText();
        String[] parts = token.split("\\.");
        String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
        entries.put(".signatures.json", JSON.writeValueAsBytes(Map.of("signatures", List.of(none + "." + parts[1] + "."))));
        var refused = assertThrows(BundleSignature.Refused.class, () -> shippedVerifier().verify(entries));
        assertTrue(refused.getMessage().contains("'none' is not the configured RS256"), refused.getMessage());
    }

    @Test
    void aPrivateKeyIsNotAcceptedAsTheVerificationKey() throws Exception {
        Path key = work.resolve("private.pem");
        run(work, Map.of(), "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.toString());
        var refused = assertThrows(IllegalArgumentException.class, () -> BundleSignature.of(Files.readString(key), "RS256"));
        assertTrue(refused.getMessage().contains("private key"), refused.getMessage());
    }

    @Test
    void anEs256BundleWithAwkwardJsonSignedByOpaIsAcceptedAndItsEditsRefused() throws Exception {
        Path bundle = Files.createDirectories(work.resolve("es256/b"));
        Files.createDirectories(bundle.resolve("x"));
        Files.writeString(bundle.resolve("x/p.rego"), "package x\n\ndefault allow := false\n");
        // Numbers as written, escapes Go writes differently from Jackson, non-ASCII keys sorted by UTF-8 bytes.
        String data = "{\"z\": 1.50, \"b\": [1e3, -0, 1E+2, null, true], \"\\u00e9\": \"<&>\\u2028\\u0001\\b\\f\\\"\\\\/\","
                + " \"\\ud83d\\ude00\": {\"k\": \"\\uffff\"}, \"\\uffef\": 0, \"a\": {\"y\": 2, \"x\": 1}, \"a\": {\"w\": 0}}";
        Files.writeString(bundle.resolve("x/data.json"), data);
        Files.writeString(bundle.resolve(".manifest"), "{ \"roots\": [\"x\"], \"revision\": \"r1\" }");
        Path key = work.resolve("es256/key.pem");
        run(work, Map.of(), "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
        String publicKey = run(work, Map.of(), "openssl", "pkey", "-in", key.toString(), "-pubout");
        run(bundle, Map.of(), OpaServer.opaBinary().toString(), "sign", "--signing-key", key.toString(), "--signing-alg", "ES256",
                "--bundle", ".");
        Map<String, byte[]> entries = new TreeMap<>();
        for (String name : List.of(".manifest", ".signatures.json", "x/p.rego", "x/data.json")) {
            entries.put(name, Files.readAllBytes(bundle.resolve(name)));
        }
        BundleSignature verifier = BundleSignature.of(publicKey, "ES256");
        assertEquals(List.of(".manifest", "x/data.json", "x/p.rego"), verifier.verify(entries));

        entries.put("x/data.json", data.replace("1.50", "1.5").getBytes(StandardCharsets.UTF_8));
        assertThrows(BundleSignature.Refused.class, () -> verifier.verify(entries), "a number written differently is another file");
        assertThrows(IllegalArgumentException.class, () -> BundleSignature.of(shippedKey, "ES256"),
                "an RSA key cannot verify ES256");
        assertThrows(BundleSignature.Refused.class, () -> shippedVerifier().verify(Map.of(".signatures.json",
                entries.get(".signatures.json"))), "an ES256 signature under the RS256 configuration");
    }

    @Test
    void canonicalJsonIsWhatOpaHashes() throws Exception {
        assertArrayEquals("{\"a\":\"<\\u2028>\",\"b\":1.50,\"n\":[1e3,null,true]}".getBytes(StandardCharsets.UTF_8),
                BundleSignature.canonicalJson("{ \"n\": [1e3, null, true], \"b\": 1.50, \"a\": \"<\u2028>\" }"
                        .getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aChangedBundleThatDoesNotVerifyLeavesTheLastVerifiedTreeInForce() throws Exception {
        Path live = work.resolve("live/bundle.tar.gz");
        Files.createDirectories(live.getParent());
        Files.copy(shipped, live);
        Path tree = work.resolve("live/policies");
        PolicyBundle bundle = new PolicyBundle(config(live, shipped.resolveSibling("verification-key.pem"), tree), null, null, JSON);
        assertTrue(bundle.unpackIfChanged());
        String tenant = Files.readString(tree.resolve("cleargate/tenants/acme-eu/data.json"));

        // The same bundle with one tenant moved to another jurisdiction, packed again with tar.
        Path unpacked = Files.createDirectories(work.resolve("live/tampered"));
        run(unpacked, Map.of(), "tar", "-xzf", shipped.toString());
        Files.writeString(unpacked.resolve("cleargate/tenants/acme-eu/data.json"), tenant.replace("\"EU\"", "\"US\""));
        run(unpacked, Map.of(), "bash", "-c", "find . -type f -printf '%P\\n' | LC_ALL=C sort | tar --no-recursion -T - -czf "
                + live.resolveSibling("tampered.tar.gz"));
        Files.move(live.resolveSibling("tampered.tar.gz"), live, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        assertFalse(bundle.unpackIfChanged(), "a tampered bundle was unpacked");
        assertEquals(tenant, Files.readString(tree.resolve("cleargate/tenants/acme-eu/data.json")),
                "the last verified tree did not stay in force");
    }

    private static PolicyConfig config(Path bundle, Path key, Path tree) {
        return new PolicyConfig() {
            public String url() {
                return "http://127.0.0.1:1";
            }

            public Optional<String> token() {
                return Optional.empty();
            }

            public Optional<String> tokenFile() {
                return Optional.empty();
            }

            public Duration timeout() {
                return Duration.ofMillis(500);
            }

            public String decisionPath() {
                return "cleargate/decision";
            }

            public Duration cacheTtl() {
                return Duration.ZERO;
            }

            public int cacheSize() {
                return 1;
            }

            public Duration askAhead() {
                return Duration.ZERO;
            }

            public Optional<String> bundle() {
                return Optional.of(bundle.toString());
            }

            public Optional<String> bundleVerificationKey() {
                return Optional.of(key.toString());
            }

            public String bundleVerificationAlgorithm() {
                return "RS256";
            }

            public Duration bundleReloadInterval() {
                return Duration.ofSeconds(10);
            }

            public Admin admin() {
                return new Admin() {
                    public Optional<String> opaToken() {
                        return Optional.empty();
                    }

                    public Optional<String> opaTokenFile() {
                        return Optional.empty();
                    }

                    public String directory() {
                        return tree.toString();
                    }

                    public String opaBinary() {
                        return "tools/bin/opa";
                    }

                    public Duration commandTimeout() {
                        return Duration.ofSeconds(60);
                    }

                    public String mode() {
                        return "gitops";
                    }

                    public int whatIfDefaultRequests() {
                        return 100;
                    }
                };
            }
        };
    }

    private static String run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile());
        builder.environment().putAll(env);
        Path err = Scratch.file("cleargate-cmd-", ".err");
        builder.redirectError(err.toFile());
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out + Files.readString(err));
        }
        Files.deleteIfExists(err);
        return out;
    }
}
