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
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kubernetes as shipped, without a cluster: each overlay is rendered with kustomize, and its gateway
 * pod is run here from the rendered manifests alone. The OPA sidecar gets the rendered arguments,
 * the gateway (the packaged PostgreSQL build, which is what the image holds) gets the rendered
 * environment and nothing else (not even a working directory with policies in it), and both get the
 * files their volumes would mount: the signed policy bundle, its verification key, the credentials,
 * the backends file. Only paths (into a directory per volume) and addresses (Services and hosts to
 * local stand-ins: mock model servers, a PostgreSQL, the test Keycloak) are moved, and the test
 * prints every such change. The production overlays get the Secrets an operator creates as
 * k8s/README.md says. Then a tenant of that overlay sends a chat completion and it is served by one
 * of the overlay's backends, decided by the bundle's revision, moderated with the tenant's profile
 * from the bundle, and audited.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployedAsRenderedIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path JAR = Path.of("target/quarkus-app-pg/quarkus-run.jar").toAbsolutePath();
    private static final String MODEL = "deepseek-v3";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private PostgresServer db;
    private KeycloakServer keycloak;
    private final List<AutoCloseable> running = new ArrayList<>();

    @BeforeAll
    void startWhatTheClusterWouldProvide() {
        if (!Files.isRegularFile(JAR)) {
            fail(JAR + " is missing: the image holds the PostgreSQL build; build it with bin/cleargate test"
                    + " (build_gateway_postgres in bin/lib/common.sh), or ./mvnw -B -q -DskipTests package"
                    + " -Dquarkus.datasource.db-kind=postgresql -Dquarkus.package.output-directory=quarkus-app-pg");
        }
        K8sTools.Result install = K8sTools.run(List.of("bash", "bin/lib/k8s.sh", "install", "opa"), 900);
        assertEquals(0, install.exitCode(), install.output());
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

    @ParameterizedTest(name = "overlay {0}")
    @ValueSource(strings = {"dev", "eu", "us"})
    void theRenderedPodServesAGovernedRequest(String overlay) throws Exception {
        Rendered rendered = Rendered.overlay(overlay);
        Path root = Files.createTempDirectory("cleargate-pod-" + overlay + "-");
        String database = overlay.equals("dev") ? "cleargate" : "cleargate_" + overlay;
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
        RenderedPod pod = new RenderedPod(rendered, operatorSecrets, root, addresses);

        // OPA, as the sidecar runs.
        JsonNode sidecar = pod.container("initContainers", "opa");
        List<String> opaCommand = new ArrayList<>();
        opaCommand.add(K8sTools.ROOT.resolve("tools/bin/opa").toString());
        opaCommand.addAll(pod.arguments(sidecar));
        Process opa = start(opaCommand, Map.of(), root, root.resolve("opa.log"));
        awaitStatus("http://127.0.0.1:" + opaDiagnostics + "/health?bundles", 200, opa, root.resolve("opa.log"));

        // The gateway, as its container runs: the rendered environment and the files of its
        // secrets volume (CLEARGATE_SECRETS_DIR, relocated into that volume's directory) only.
        // QUARKUS_HTTP_HOST, CLEARGATE_PORT and CLEARGATE_METRICS_PORT are the pod's own network
        // identity; here it listens on loopback, on free ports.
        JsonNode gatewayContainer = pod.container("containers", "gateway");
        Map<String, String> env = pod.environment(gatewayContainer);
        assertEquals("0.0.0.0", env.put("QUARKUS_HTTP_HOST", "127.0.0.1"));
        assertEquals("8080", env.put("CLEARGATE_PORT", String.valueOf(gatewayPort)));
        assertEquals("9090", env.put("CLEARGATE_METRICS_PORT", String.valueOf(metricsPort)));
        Path secrets = Path.of(env.get("CLEARGATE_SECRETS_DIR"));
        assertEquals(pod.volume("secrets"), secrets, "the secrets directory is not the secrets volume");
        assertTrue(Files.isRegularFile(secrets.resolve("CLEARGATE_DB_PASSWORD"))
                && Files.isRegularFile(secrets.resolve("CLEARGATE_AUDIT_MASTER_KEY")), "secrets volume without its files");
        assertTrue(env.keySet().stream().noneMatch(k -> k.equals("CLEARGATE_DB_PASSWORD") || k.equals("CLEARGATE_DEV_KEY")
                || k.equals("CLEARGATE_POLICY_TOKEN")), "a secret in the environment: " + env.keySet());
        Path workdir = Files.createDirectories(root.resolve("workdir"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The image's JVM arguments (quarkus.jib.jvm-additional-arguments) and a heap cap for this machine.
        List<String> gatewayCommand = List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-jar", JAR.toString());
        Process gateway = start(gatewayCommand, env, workdir, root.resolve("gateway.log"));
        String base = "http://127.0.0.1:" + gatewayPort;
        System.out.println("overlay " + overlay + ": moved to this machine:\n  " + String.join("\n  ", pod.changes()));
        try {
            awaitStatus(base + "/q/health/ready", 200, gateway, root.resolve("gateway.log"));
            String revision = bundleRevision(pod);
            String log = Files.readString(root.resolve("gateway.log"));
            assertTrue(log.contains("(revision " + revision + ") unpacked"), "the gateway did not take its tree from"
                    + " the bundle:\n" + tail(log));

            // A governed request: authenticated, decided by the bundle, routed within the overlay, audited.
            String bearer = bearer(overlay, pod);
            HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + bearer)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"max_tokens\":8,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"Write to ops@example.com about the rollout\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, chat.statusCode(), chat.body() + "\n" + tail(Files.readString(root.resolve("gateway.log"))));
            String servedBy = chat.headers().firstValue("x-cleargate-backend").orElse("");
            assertTrue(backends.containsKey(servedBy), "served by " + servedBy + ", not a backend of " + overlay);
            assertEquals(1, backends.get(servedBy).requests(), "the backend that answered saw the request");
            String requestId = chat.headers().firstValue("x-request-id").orElseThrow();

            // OPA decides with the signed bundle's revision, and the audit record names it.
            HttpResponse<String> export = http.send(HttpRequest.newBuilder(URI.create(base + "/audit/export?tenant=" + tenant(overlay)))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + auditor(overlay, pod)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, export.statusCode(), export.body());
            assertTrue(export.body().contains(requestId), "no audit record of " + requestId);
            assertTrue(export.body().contains(revision), "the audit trail does not name bundle revision " + revision);
            assertFalse(export.body().contains("unversioned"), "a decision without the bundle's revision");
        } finally {
            gateway.destroy();
            opa.destroy();
            gateway.waitFor(30, TimeUnit.SECONDS);
            opa.waitFor(10, TimeUnit.SECONDS);
            for (AutoCloseable c : running) {
                c.close();
            }
            running.clear();
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
