package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cleargate.audit.PostgresServer;
import io.cleargate.testsupport.KeycloakServer;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.Scratch;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kubernetes as shipped, without a cluster: each overlay is rendered with kustomize, and its gateway
 * pod is run here from the rendered manifests alone. The OPA sidecar gets the rendered arguments,
 * the gateway (the packaged PostgreSQL build, which is what the image holds) gets the rendered
 * environment and nothing else (not even a working directory with policies in it), and both get the
 * files their volumes would mount: the signed policy bundle, its verification key, the credentials,
 * the backends file. Only paths (into a directory per volume; the image's opa to the file the image
 * build stages) and addresses (Services and hosts to local stand-ins: mock model servers, a
 * PostgreSQL, the test Keycloak, a Debian redis-server run with the rate-limit store's rendered
 * arguments) are moved, and the test prints every such change. The production overlays are released
 * as k8s/README.md says: CI signs the bundle with its own key, the operator pins that key's public
 * half in the overlay and creates the Secrets. Then a tenant of that overlay sends a chat completion
 * and it is served by one of the overlay's backends, decided by the bundle's revision, moderated
 * with the tenant's profile from the bundle, counted in the shared store and audited; policy
 * administration checks drafts with the image's opa; a bundle changed in place without a valid
 * signature is refused while the verified one stays in force.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployedAsRenderedIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path JAR = Path.of("target/quarkus-app-pg/quarkus-run.jar").toAbsolutePath();
    private static final String MODEL = "deepseek-v3";
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Where bin/lib/k8s.sh image-opa stages the opa that Jib puts at /opt/cleargate/bin/opa in the image. */
    private static final Path IMAGE_OPA = K8sTools.ROOT.resolve("src/main/jib/opt/cleargate/bin/opa");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private PostgresServer db;
    private KeycloakServer keycloak;
    private Path ciKey;
    private Path ciPublicKey;
    private final List<AutoCloseable> running = new ArrayList<>();

    @BeforeAll
    void startWhatTheClusterWouldProvide() throws Exception {
        if (!Files.isRegularFile(JAR)) {
            fail(JAR + " is missing: the image holds the PostgreSQL build; build it with bin/cleargate test"
                    + " (build_gateway_postgres in bin/lib/common.sh), or ./mvnw -B -q -DskipTests package"
                    + " -Dquarkus.datasource.db-kind=postgresql -Dquarkus.package.output-directory=quarkus-app-pg");
        }
        K8sTools.Result install = K8sTools.run(List.of("bash", "bin/lib/k8s.sh", "install", "opa"), 900);
        assertEquals(0, install.exitCode(), install.output());
        // The opa the image carries, staged exactly as the image build stages it.
        K8sTools.Result imageOpa = K8sTools.run(List.of("bash", "bin/lib/k8s.sh", "image-opa"), 1200);
        assertEquals(0, imageOpa.exitCode(), imageOpa.output());
        K8sTools.prepare();
        // CI's bundle signing key: its private half never leaves CI, its public half is pinned in the overlays.
        Path ci = Scratch.dir("cleargate-ci-");
        ciKey = ci.resolve("bundle-signing-key.pem");
        ciPublicKey = ci.resolve("bundle-verification-key.pem");
        assertEquals(0, K8sTools.run(List.of("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072",
                "-out", ciKey.toString()), 120).exitCode());
        assertEquals(0, K8sTools.run(List.of("openssl", "pkey", "-in", ciKey.toString(), "-pubout", "-out",
                ciPublicKey.toString()), 60).exitCode());
        db = PostgresServer.start();
        keycloak = KeycloakServer.get();
    }

    @AfterAll
    void stopEverything() {
        if (db != null) {
            db.close();
        }
    }

    /** The tenant each overlay serves, and how its users authenticate there. */
    private String bearer(String overlay, RenderedPod pod) {
        return switch (overlay) {
            case "dev" -> secret(pod, "cleargate-dev-key", "key");
            case "eu" -> keycloak.passwordToken("acme-eu-user");
            case "us" -> keycloak.passwordToken("globex-us-user");
            default -> fail("no tenant for overlay " + overlay);
        };
    }

    /** Who administers the tenant's policy there. */
    private String policyAdmin(String overlay, RenderedPod pod) {
        return switch (overlay) {
            case "dev" -> secret(pod, "cleargate-dev-key", "key");
            case "eu" -> keycloak.passwordToken("acme-eu-policy-admin");
            case "us" -> keycloak.passwordToken("globex-us-policy-admin");
            default -> fail("no tenant for overlay " + overlay);
        };
    }

    /**
     * The overlay as it is applied: dev as it is in the repository (its bundle is verified with the
     * development key's public half); a production overlay released as k8s/README.md step 2 says, in
     * a copy of k8s/: the public half of CI's key pinned in the overlay, the bundle signed by CI with
     * the private half ({@code signedByCi}), or by someone else's key (the development key) when not.
     */
    private Rendered released(String overlay, boolean signedByCi) throws Exception {
        if (overlay.equals("dev")) {
            return Rendered.overlay("dev");
        }
        Path tree = Scratch.dir("cleargate-release-" + overlay + "-").resolve("k8s");
        for (String dir : List.of("base", "components", "overlays", "keycloak")) {
            copyTree(K8sTools.ROOT.resolve("k8s").resolve(dir), tree.resolve(dir));
        }
        Files.copy(ciPublicKey, tree.resolve("overlays/" + overlay + "/bundle-verification-key.pem"),
                StandardCopyOption.REPLACE_EXISTING);
        List<String> pack = new ArrayList<>(List.of("env", "CLEARGATE_BUNDLE_OUT=" + tree.resolve("base/opa/bundle.tar.gz"),
                "CLEARGATE_K8S_DIR=" + tree));
        if (signedByCi) {
            pack.add("CLEARGATE_BUNDLE_SIGNING_KEY=" + ciKey);
        }
        pack.addAll(List.of("bash", "bin/lib/k8s.sh", "bundle"));
        K8sTools.Result packed = K8sTools.run(pack, 300);
        assertEquals(0, packed.exitCode(), packed.output());
        assertTrue(packed.output().contains("overlay " + overlay + (signedByCi ? " pins this signing key" : " pins another key")),
                packed.output());
        K8sTools.Result built = K8sTools.run(List.of(K8sTools.ROOT.resolve("tools/bin/kustomize").toString(), "build",
                tree.resolve("overlays/" + overlay).toString()), 120);
        assertEquals(0, built.exitCode(), built.output());
        Rendered rendered = new Rendered(overlay, built.stdout(), K8sTools.documents(built.stdout()));
        assertEquals(Files.readString(ciPublicKey), rendered.named("ConfigMap", "cleargate-opa-verification-key").path("data")
                .path("verification-key.pem").asText(), "the overlay does not verify with the key pinned in it");
        assertFalse(rendered.yaml().contains("PRIVATE KEY"), "a private key in the rendered overlay");
        return rendered;
    }

    /** The pod's surroundings on this machine: stand-ins for what it reaches, and its volumes. */
    private record PodHere(Rendered rendered, RenderedPod pod, Path root, Map<String, MockUpstream> backends,
            Process rateLimitStore, Integer rateLimitPort, int opaApi, int opaDiagnostics, int gatewayPort, int metricsPort) {
        Path log(String name) {
            return root.resolve(name + ".log");
        }
    }

    private PodHere podHere(String overlay, Rendered rendered, String database) throws Exception {
        Path root = Scratch.dir("cleargate-pod-" + overlay + "-");
        List<JsonNode> operatorSecrets = operatorSecrets(rendered, overlay, database);
        db.createDatabase(database);

        // The places the pod would reach, and their stand-ins here.
        Map<String, String> addresses = new LinkedHashMap<>();
        Map<String, MockUpstream> backends = new LinkedHashMap<>();
        for (var backend : rendered.backends().entrySet()) {
            URI url = URI.create(backend.getValue().get("base-url"));
            MockUpstream mock = new MockUpstream(backend.getKey(), 0, 4, 0);
            running.add(mock);
            backends.put(backend.getKey(), mock);
            addresses.put(url.getScheme() + "://" + url.getAuthority(), "http://127.0.0.1:" + URI.create(mock.baseUrl()).getPort());
        }
        int opaApi = OpaServer.freePort();
        int opaDiagnostics = OpaServer.freePort();
        int gatewayPort = OpaServer.freePort();
        int metricsPort = OpaServer.freePort();
        addresses.put("127.0.0.1:8181", "127.0.0.1:" + opaApi);
        addresses.put("127.0.0.1:8282", "127.0.0.1:" + opaDiagnostics);
        RenderedPod probe = new RenderedPod(rendered, operatorSecrets, root, Map.of());
        URI dbUrl = URI.create(secret(probe, "cleargate-db", "url").substring("jdbc:".length()));
        addresses.put("//" + dbUrl.getAuthority() + "/", "//127.0.0.1:" + db.port() + "/");
        String oidc = rendered.gatewayEnvironment().get("QUARKUS_OIDC_AUTH_SERVER_URL").asText();
        URI oidcUrl = URI.create(oidc);
        addresses.put(oidcUrl.getScheme() + "://" + oidcUrl.getAuthority() + "/realms/cleargate", keycloak.issuer());
        // The image's opa: the file the image build puts at that path.
        String imageOpa = rendered.gatewayEnvironment().get("CLEARGATE_OPA_BIN").asText();
        assertEquals("/opt/cleargate/bin/opa", imageOpa, "policy administration's opa is not the image's");
        assertTrue(Files.isExecutable(IMAGE_OPA), IMAGE_OPA + " was not staged");
        addresses.put(imageOpa, IMAGE_OPA.toString());

        // The shared rate-limit store, when the overlay has one: Debian's redis-server with the
        // rendered container's arguments (the image's valkey-server speaks the same protocol).
        Process store = null;
        Integer storePort = null;
        JsonNode storeDeployment = rendered.ofKind("Deployment")
                .filter(d -> d.path("metadata").path("name").asText().equals("cleargate-rate-limits")).findFirst().orElse(null);
        if (storeDeployment != null) {
            String url = rendered.gatewayEnvironment().get("CLEARGATE_RATE_LIMITS_REDIS_URL").asText();
            assertEquals("redis", rendered.gatewayEnvironment().get("CLEARGATE_RATE_LIMITS_STORE").asText());
            storePort = OpaServer.freePort();
            addresses.put(url, "redis://127.0.0.1:" + storePort);
            JsonNode container = rendered.container(storeDeployment, "containers", "valkey");
            List<String> command = new ArrayList<>(List.of("/usr/bin/redis-server"));
            container.path("args").forEach(a -> command.add(a.asText()));
            assertEquals("valkey-server", command.remove(1), "the store's program");
            Path data = Files.createDirectories(root.resolve("volumes/rate-limits-data"));
            command.addAll(List.of("--bind", "127.0.0.1", "--port", String.valueOf(storePort), "--dir", data.toString()));
            System.out.println("overlay " + overlay + ": rate-limit store run as " + command);
            store = start(command, Map.of(), data, root.resolve("rate-limits.log"));
            awaitRedis(storePort, store, root.resolve("rate-limits.log"));
        }
        RenderedPod pod = new RenderedPod(rendered, operatorSecrets, root, addresses);
        return new PodHere(rendered, pod, root, backends, store, storePort, opaApi, opaDiagnostics, gatewayPort, metricsPort);
    }

    /** OPA, as the sidecar runs. */
    private Process startOpa(PodHere here) throws IOException {
        JsonNode sidecar = here.pod().container("initContainers", "opa");
        List<String> opaCommand = new ArrayList<>();
        opaCommand.add(K8sTools.ROOT.resolve("tools/bin/opa").toString());
        opaCommand.addAll(here.pod().arguments(sidecar));
        return start(opaCommand, Map.of(), here.root(), here.log("opa"));
    }

    /**
     * The gateway, as its container runs: the rendered environment and the files of its secrets
     * volume (CLEARGATE_SECRETS_DIR, relocated into that volume's directory) only.
     * QUARKUS_HTTP_HOST, CLEARGATE_PORT and CLEARGATE_METRICS_PORT are the pod's own network identity;
     * here it listens on loopback, on free ports.
     */
    private Process startGateway(PodHere here) throws IOException {
        RenderedPod pod = here.pod();
        JsonNode gatewayContainer = pod.container("containers", "gateway");
        Map<String, String> env = pod.environment(gatewayContainer);
        assertEquals("0.0.0.0", env.put("QUARKUS_HTTP_HOST", "127.0.0.1"));
        assertEquals("8080", env.put("CLEARGATE_PORT", String.valueOf(here.gatewayPort())));
        assertEquals("9090", env.put("CLEARGATE_METRICS_PORT", String.valueOf(here.metricsPort())));
        Path secrets = Path.of(env.get("CLEARGATE_SECRETS_DIR"));
        assertEquals(pod.volume("secrets"), secrets, "the secrets directory is not the secrets volume");
        assertTrue(Files.isRegularFile(secrets.resolve("CLEARGATE_DB_PASSWORD"))
                && Files.isRegularFile(secrets.resolve("CLEARGATE_AUDIT_MASTER_KEY")), "secrets volume without its files");
        assertTrue(env.keySet().stream().noneMatch(k -> k.equals("CLEARGATE_DB_PASSWORD") || k.equals("CLEARGATE_DEV_KEY")
                || k.equals("CLEARGATE_POLICY_TOKEN")), "a secret in the environment: " + env.keySet());
        Path key = Path.of(env.get("CLEARGATE_POLICY_BUNDLE_VERIFICATION_KEY"));
        assertEquals(pod.volume("opa-verification").resolve("verification-key.pem"), key,
                "the gateway does not verify with the key the sidecar verifies with");
        Path workdir = Files.createDirectories(here.root().resolve("workdir"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The image's JVM arguments (quarkus.jib.jvm-additional-arguments) and a heap cap for this machine.
        List<String> gatewayCommand = List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-jar", JAR.toString());
        Process gateway = start(gatewayCommand, env, workdir, here.log("gateway"));
        System.out.println("overlay " + here.rendered().overlay() + ": moved to this machine:\n  " + String.join("\n  ", pod.changes()));
        return gateway;
    }

    @ParameterizedTest(name = "overlay {0}")
    @ValueSource(strings = {"dev", "eu", "us"})
    void theRenderedPodServesAGovernedRequest(String overlay) throws Exception {
        Rendered rendered = released(overlay, true);
        if (!overlay.equals("dev")) {
            assertTrue(rendered.ofKind("Deployment").anyMatch(d -> d.path("metadata").path("name").asText()
                    .equals("cleargate-rate-limits")), overlay + " has no shared rate-limit store");
        }
        PodHere here = podHere(overlay, rendered, overlay.equals("dev") ? "cleargate" : "cleargate_" + overlay);
        Process opa = startOpa(here);
        awaitStatus("http://127.0.0.1:" + here.opaDiagnostics() + "/health?bundles", 200, opa, here.log("opa"));
        Process gateway = startGateway(here);
        String base = "http://127.0.0.1:" + here.gatewayPort();
        RenderedPod pod = here.pod();
        try {
            awaitStatus(base + "/q/health/ready", 200, gateway, here.log("gateway"));
            String revision = bundleRevision(pod);
            String log = Files.readString(here.log("gateway"));
            assertTrue(log.contains("(revision " + revision + ") signature verified and unpacked"), "the gateway did not take"
                    + " its tree from the verified bundle:\n" + tail(log));

            // A governed request: authenticated, decided by the bundle, routed within the overlay, audited.
            String bearer = bearer(overlay, pod);
            HttpResponse<String> chat = chat(base, bearer);
            assertEquals(200, chat.statusCode(), chat.body() + "\n" + tail(Files.readString(here.log("gateway"))));
            String servedBy = chat.headers().firstValue("x-cleargate-backend").orElse("");
            assertTrue(here.backends().containsKey(servedBy), "served by " + servedBy + ", not a backend of " + overlay);
            assertEquals(1, here.backends().get(servedBy).requests(), "the backend that answered saw the request");
            String requestId = chat.headers().firstValue("x-request-id").orElseThrow();

            // OPA decides with the signed bundle's revision, and the audit record names it.
            HttpResponse<String> export = http.send(HttpRequest.newBuilder(URI.create(base + "/audit/export?tenant=" + tenant(overlay)))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + auditor(overlay, pod)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, export.statusCode(), export.body());
            assertTrue(export.body().contains(requestId), "no audit record of " + requestId);
            assertTrue(export.body().contains(revision), "the audit trail does not name bundle revision " + revision);
            assertFalse(export.body().contains("unversioned"), "a decision without the bundle's revision");

            // The tenant's limits are counted in the shared store, which every replica reaches.
            if (here.rateLimitStore() != null) {
                K8sTools.Result keys = K8sTools.run(List.of("redis-cli", "-p", String.valueOf(here.rateLimitPort()), "--scan",
                        "--pattern", "*{" + tenant(overlay) + "}*"), 30);
                assertFalse(keys.stdout().isBlank(), "the request was not counted in the shared store: " + keys.output());
            }

            // Policy administration inside the pod: drafts are checked with the image's opa.
            policyAdministrationChecksDraftsWithTheImagesOpa(overlay, base, policyAdmin(overlay, pod));

            // A bundle changed in place (the ConfigMap edited) that no longer verifies is refused by
            // the gateway, and the verified tree stays in force.
            Path bundle = pod.volume("opa-policy").resolve("bundle.tar.gz");
            tamper(bundle, here.root().resolve("tampered"));
            awaitLog(here.log("gateway"), "refused: file(s) [cleargate/tenants/mallory/data.json] are not covered by the signature",
                    gateway);
            assertEquals(200, chat(base, bearer).statusCode(), "the last verified tree is no longer served");
            assertFalse(Files.readString(here.log("gateway")).contains("mallory/data.json\" unpacked"));

            // With the store down, limited requests are refused, not counted per replica.
            if (here.rateLimitStore() != null) {
                here.rateLimitStore().destroy();
                here.rateLimitStore().waitFor(10, TimeUnit.SECONDS);
                HttpResponse<String> refused = chat(base, bearer);
                assertEquals(503, refused.statusCode(), refused.body());
                assertTrue(refused.body().contains("rate_limit_store_unavailable"), refused.body());
            }
        } finally {
            stop(gateway, opa);
        }
    }

    /**
     * A production pod whose bundle was signed with another key than the one pinned in its overlay
     * (here the development key) serves nothing: the gateway refuses the bundle and does not start,
     * and the sidecar activates no bundle.
     */
    @Test
    void aProductionPodWhoseBundleIsNotSignedWithThePinnedKeyNeverServes() throws Exception {
        Rendered rendered = released("eu", false);
        PodHere here = podHere("eu", rendered, "cleargate_eu_refused");
        Process opa = startOpa(here);
        Process gateway = startGateway(here);
        try {
            assertTrue(gateway.waitFor(180, TimeUnit.SECONDS), "the gateway started with a bundle it cannot verify");
            assertTrue(gateway.exitValue() != 0, "the gateway exited normally");
            String log = Files.readString(here.log("gateway"));
            assertTrue(log.contains("refused: the signature does not verify with the configured bundle verification key"),
                    tail(log));
            assertFalse(log.contains("BEGIN"), "key material in the log");
            // The sidecar, given as long as its startup probe allows a healthy one to start, activates nothing.
            int health = -1;
            for (int i = 0; i < 40 && opa.isAlive() && health != 200; i++) {
                try {
                    health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + here.opaDiagnostics()
                            + "/health?bundles")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding())
                            .statusCode();
                } catch (IOException notListeningYet) {
                    health = -1;
                }
                Thread.sleep(250);
            }
            assertTrue(health != 200, "the sidecar activated a bundle signed with another key");
        } finally {
            stop(gateway, opa);
        }
    }

    private void policyAdministrationChecksDraftsWithTheImagesOpa(String overlay, String base, String admin) throws Exception {
        String file = "cleargate/tenants/" + tenant(overlay) + "/data.json";
        HttpResponse<String> current = http.send(HttpRequest.newBuilder(URI.create(base + "/admin/policies/files/" + file))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + admin).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, current.statusCode(), current.body());
        ObjectNode tenantData = (ObjectNode) JSON.readTree(JSON.readTree(current.body()).path("content").asText());
        ((ObjectNode) tenantData.path("limits")).put("max_tokens", 1024);
        JsonNode valid = validate(base, admin, file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tenantData));
        assertTrue(valid.path("valid").asBoolean(), "a sound draft was not accepted: " + valid);
        // A draft whose decisions would be malformed (regions not a list) is caught by evaluating it with opa.
        tenantData.put("regions", "nowhere");
        JsonNode invalid = validate(base, admin, file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tenantData));
        assertFalse(invalid.path("valid").asBoolean(), "a draft with malformed decisions passed: " + invalid);
        assertFalse(invalid.path("errors").isEmpty(), invalid.toString());
    }

    private JsonNode validate(String base, String admin, String file, String content) throws Exception {
        String body = JSON.writeValueAsString(Map.of("files", Map.of(file, content), "message", "check in the pod"));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/admin/policies/validate"))
                .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + admin)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), "policy administration could not check a draft: " + response.body());
        return JSON.readTree(response.body());
    }

    private HttpResponse<String> chat(String base, String bearer) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":8,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"Write to ops@example.com about the rollout\"}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The mounted bundle with one more tenant file, repacked, swapped in as the kubelet swaps a ConfigMap. */
    private static void tamper(Path bundle, Path work) throws Exception {
        Files.createDirectories(work.resolve("cleargate/tenants/mallory"));
        assertEquals(0, K8sTools.run(List.of("tar", "-C", work.toString(), "-xzf", bundle.toString()), 60).exitCode());
        Files.writeString(work.resolve("cleargate/tenants/mallory/data.json"), "{\"jurisdiction\": \"US\", \"models\": [\"*\"]}");
        Path repacked = bundle.resolveSibling(".tampered.tar.gz");
        K8sTools.Result packed = K8sTools.run(List.of("bash", "-c", "cd \"$1\" && find . -type f -printf '%P\\n' | LC_ALL=C sort"
                + " | tar --no-recursion -T - -czf \"$2\"", "tamper", work.toString(), repacked.toString()), 60);
        assertEquals(0, packed.exitCode(), packed.output());
        Files.move(repacked, bundle, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void stop(Process gateway, Process opa) throws Exception {
        gateway.destroy();
        opa.destroy();
        gateway.waitFor(30, TimeUnit.SECONDS);
        opa.waitFor(10, TimeUnit.SECONDS);
        for (AutoCloseable c : running) {
            c.close();
        }
        running.clear();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static String tenant(String overlay) {
        return switch (overlay) {
            case "dev" -> "dev";
            case "eu" -> "acme-eu";
            default -> "globex-us";
        };
    }

    /** Who reads the tenant's audit trail there. */
    private String auditor(String overlay, RenderedPod pod) {
        return switch (overlay) {
            case "dev" -> secret(pod, "cleargate-dev-key", "key");
            case "eu" -> keycloak.passwordToken("acme-eu-compliance");
            case "us" -> keycloak.passwordToken("globex-us-compliance");
            default -> fail("no tenant for overlay " + overlay);
        };
    }

    /**
     * The Secrets of k8s/README.md step 3 for an overlay that does not generate them, made the way
     * the README's commands make them (random tokens, their SHA-256 for OPA, random audit keys).
     */
    private List<JsonNode> operatorSecrets(Rendered rendered, String overlay, String database) throws Exception {
        if (rendered.ofKind("Secret").anyMatch(s -> s.path("metadata").path("name").asText().startsWith("cleargate-db"))) {
            return List.of();
        }
        String gatewayToken = hex(32);
        String adminToken = hex(32);
        List<JsonNode> secrets = new ArrayList<>();
        secrets.add(secret("cleargate-db", Map.of("url", "jdbc:postgresql://db." + overlay + ".internal:5432/" + database,
                "username", "cleargate", "password", hex(16))));
        secrets.add(secret("cleargate-opa", Map.of("gateway-token", gatewayToken, "policy-admin-token", adminToken,
                "credentials.json", "{\"gateway\":\"" + sha256(gatewayToken) + "\",\"policy_admin\":\"" + sha256(adminToken)
                        + "\"}")));
        secrets.add(secret("cleargate-audit", Map.of("master-key", base64(32), "signing-key", base64(32))));
        Map<String, String> credentials = new LinkedHashMap<>();
        rendered.backends().keySet().forEach(id -> credentials.put(
                "CLEARGATE_BACKEND_" + id.toUpperCase(java.util.Locale.ROOT).replace('-', '_') + "_API_KEY", hex(16)));
        secrets.add(secret("cleargate-backend-credentials", credentials));
        return secrets;
    }

    private static JsonNode secret(String name, Map<String, String> values) {
        ObjectNode secret = JSON.createObjectNode();
        secret.put("apiVersion", "v1");
        secret.put("kind", "Secret");
        secret.putObject("metadata").put("name", name);
        ObjectNode data = secret.putObject("data");
        values.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return secret;
    }

    /** A Secret's value, from the rendered overlay (hash-suffixed name) or the operator's Secrets. */
    private static String secret(RenderedPod pod, String name, String key) {
        // Generated Secrets carry kustomize's hash suffix.
        JsonNode found = pod.findGenerated("Secret", name);
        if (found == null || !found.path("data").has(key)) {
            return fail("no Secret " + name + " with " + key);
        }
        return new String(Base64.getMimeDecoder().decode(found.path("data").path(key).asText()), StandardCharsets.UTF_8);
    }

    /** The revision in the .manifest of the bundle the pod mounts. */
    private static String bundleRevision(RenderedPod pod) throws IOException {
        Path bundle = pod.volume("opa-policy").resolve("bundle.tar.gz");
        try (var in = new GZIPInputStream(Files.newInputStream(bundle))) {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String name = new String(header, 0, 100, StandardCharsets.US_ASCII).replace("\0", "");
                long size = Long.parseLong(new String(header, 124, 12, StandardCharsets.US_ASCII).replace("\0", "").trim(), 8);
                byte[] content = in.readNBytes((int) size);
                in.readNBytes((int) ((512 - size % 512) % 512));
                if (name.equals(".manifest")) {
                    String revision = JSON.readTree(content).path("revision").asText();
                    assertTrue(revision.matches("[0-9a-f]{16}"), "bundle revision " + revision);
                    return revision;
                }
            }
        }
        return fail("the bundle has no .manifest");
    }

    private Process start(List<String> command, Map<String, String> env, Path dir, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        Process p = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        running.add(p::destroyForcibly);
        return p;
    }

    private void awaitStatus(String url, int status, Process process, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        int last = -1;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail(url + ": the process exited with " + process.exitValue() + ":\n" + tail(Files.readString(log)));
            }
            try {
                last = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (last == status) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail(url + " answered " + last + ", not " + status + ", within 180 s:\n" + tail(Files.readString(log)));
    }

    private static void awaitRedis(int port, Process process, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("redis-server exited:\n" + Files.readString(log));
            }
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        fail("redis-server did not listen on " + port + ":\n" + Files.readString(log));
    }

    private static void awaitLog(Path log, String line, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(line)) {
                return;
            }
            assertTrue(process.isAlive(), "the process exited:\n" + tail(Files.readString(log)));
            Thread.sleep(250);
        }
        fail("no log line '" + line + "' within 60 s:\n" + tail(Files.readString(log)));
    }

    private static String tail(String log) {
        return log.length() <= 6000 ? log : log.substring(log.length() - 6000);
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String base64(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
