package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.cleargate.testsupport.Scratch;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs a real OPA with the command line of the rendered dev overlay's sidecar, fed with what its
 * volumes would hold in the pod (the signed bundle ConfigMap, its verification key, the projected
 * credentials Secret), so bundle signature verification, token authentication and the
 * authorization policy are exercised as deployed. Only the listen addresses are moved to free
 * loopback ports ({@link RenderedPod}).
 */
class OpaSidecarTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static Process opa;
    private static Path log;
    private static Path root;
    private static RenderedPod pod;
    private static List<String> command;
    private static String api;
    private static String diagnostics;
    private static Map<String, String> tokens;
    private static JsonNode sidecar;
    private static int diagnosticPort;

    @BeforeAll
    static void startSidecarAsRendered() throws Exception {
        K8sTools.Result install = K8sTools.run(List.of("bash", "bin/lib/k8s.sh", "install", "opa"), 900);
        assertEquals(0, install.exitCode(), install.output());
        Rendered dev = Rendered.overlay("dev");
        sidecar = dev.container(dev.gatewayDeployment(), "initContainers", "opa");
        root = Scratch.dir("cleargate-opa-sidecar-");
        int apiPort = freePort();
        diagnosticPort = freePort();
        pod = new RenderedPod(dev, List.of(), root, Map.of("127.0.0.1:8181", "127.0.0.1:" + apiPort,
                "127.0.0.1:8282", "127.0.0.1:" + diagnosticPort));
        command = new ArrayList<>();
        command.add(K8sTools.ROOT.resolve("tools/bin/opa").toString());
        command.addAll(pod.arguments(pod.container("initContainers", "opa")));
        log = root.resolve("opa.log");
        opa = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        api = "http://127.0.0.1:" + apiPort;
        diagnostics = "http://127.0.0.1:" + diagnosticPort;

        JsonNode secret = dev.named("Secret", "cleargate-opa").path("data");
        tokens = Map.of("gateway", decode(secret.path("gateway-token").asText()),
                "policy_admin", decode(secret.path("policy-admin-token").asText()));
        awaitHealthy();
    }

    @AfterAll
    static void stop() {
        if (opa != null) {
            opa.destroy();
        }
    }

    @Test
    void healthIsServedOnTheDiagnosticPortWithoutAToken() throws Exception {
        assertEquals(200, send(HttpRequest.newBuilder(URI.create(diagnostics + "/health")).GET()).statusCode());
        assertEquals(200, send(HttpRequest.newBuilder(URI.create(diagnostics + "/health?bundles")).GET()).statusCode(),
                "the signed bundle is not activated");
    }

    @Test
    void decisionsCarryTheSignedBundlesRevision() throws Exception {
        HttpResponse<String> response = send(decision(tokens.get("gateway")));
        String manifest = new String(Rendered.untar(java.util.Base64.getEncoder().encodeToString(
                Files.readAllBytes(pod.volume("opa-policy").resolve("bundle.tar.gz")))).get(".manifest"));
        String revision = new com.fasterxml.jackson.databind.ObjectMapper().readTree(manifest).path("revision").asText();
        assertTrue(revision.matches("[0-9a-f]{16}"), manifest);
        assertTrue(response.body().contains("\"revision\":\"" + revision + "\""), response.body());
    }

    /**
     * The same sidecar command line over a bundle changed after signing (one tenant's jurisdiction):
     * OPA refuses to activate it, stays not ready, and answers no decision.
     */
    @Test
    void aBundleChangedAfterSigningIsNotActivated() throws Exception {
        Path bundle = pod.volume("opa-policy").resolve("bundle.tar.gz");
        Path tampered = root.resolve("tampered");
        Files.createDirectories(tampered.resolve("files"));
        run(List.of("tar", "xzf", bundle.toString(), "-C", tampered.resolve("files").toString()));
        Path tenant = tampered.resolve("files/cleargate/tenants/acme-eu/data.json");
        Files.writeString(tenant, Files.readString(tenant).replace("\"EU\"", "\"US\""));
        Path tamperedBundle = tampered.resolve("bundle.tar.gz");
        run(List.of("bash", "-c", "cd \"$1\" && find . -type f -printf '%P\\n' | LC_ALL=C sort"
                + " | tar --no-recursion -T - -czf \"$2\"", "tar", tampered.resolve("files").toString(),
                tamperedBundle.toString()));
        int apiPort = freePort();
        int diagnosticPort = freePort();
        List<String> args = new ArrayList<>();
        for (String arg : command) {
            args.add(arg.replace(bundle.toString(), tamperedBundle.toString())
                    .replace(api.substring("http://".length()), "127.0.0.1:" + apiPort)
                    .replace(diagnostics.substring("http://".length()), "127.0.0.1:" + diagnosticPort));
        }
        assertTrue(args.stream().anyMatch(a -> a.contains(tamperedBundle.toString())), args.toString());
        Path tamperedLog = tampered.resolve("opa.log");
        Process other = new ProcessBuilder(args).directory(tampered.toFile()).redirectErrorStream(true)
                .redirectOutput(tamperedLog.toFile()).start();
        try {
            String health = "http://127.0.0.1:" + diagnosticPort + "/health";
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && !Files.readString(tamperedLog).contains("digest mismatch")) {
                Thread.sleep(200);
            }
            assertTrue(Files.readString(tamperedLog).contains("digest mismatch"), Files.readString(tamperedLog));
            assertEquals(500, send(HttpRequest.newBuilder(URI.create(health + "?bundles")).GET()).statusCode());
            HttpResponse<String> decision = HTTP.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + apiPort + "/v1/data/cleargate/decision"))
                    .header("Authorization", "Bearer " + tokens.get("gateway")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"input\":{}}")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertFalse(decision.statusCode() == 200 && decision.body().contains("\"result\""),
                    "a decision from a bundle that failed verification: " + decision.body());
        } finally {
            other.destroy();
        }
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, command + "\n" + out);
    }

    /**
     * The diagnostic port is on loopback, out of the kubelet's reach, so the probes run in the
     * container: the rendered command, run against this sidecar, passes while OPA answers and
     * fails against a port nothing listens on.
     */
    @Test
    void theRenderedProbesPassWhileOpaAnswersAndFailWithoutIt() throws Exception {
        for (String probe : List.of("startupProbe", "livenessProbe")) {
            assertEquals(0, runProbe(probe, diagnosticPort), probe + " against the running sidecar");
            assertTrue(runProbe(probe, freePort()) != 0, probe + " passed with nothing listening");
        }
    }

    private static int runProbe(String probe, int port) throws Exception {
        List<String> command = new ArrayList<>();
        for (JsonNode part : sidecar.path(probe).path("exec").path("command")) {
            String text = part.asText();
            command.add(text.equals("/opa") ? K8sTools.ROOT.resolve("tools/bin/opa").toString()
                    : text.replace("127.0.0.1:8282", "127.0.0.1:" + port));
        }
        assertTrue(command.size() > 1, probe + " has no exec command");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    @Test
    void aDecisionWithoutATokenIsRefused() throws Exception {
        assertEquals(401, send(decision(null)).statusCode());
    }

    @Test
    void theGatewaysTokenGetsADecisionFromThePolicyBundle() throws Exception {
        HttpResponse<String> response = send(decision(tokens.get("gateway")));
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"result\""), "undefined decision: " + response.body());
        assertTrue(response.body().contains("\"decision_id\""), "decision logging is off: " + response.body());
    }

    @Test
    void theGatewaysTokenCannotReadPolicies() throws Exception {
        HttpResponse<String> response = send(policies(tokens.get("gateway")));
        assertEquals(401, response.statusCode(), response.body());
    }

    @Test
    void thePolicyAdministrationTokenCanReadPolicies() throws Exception {
        HttpResponse<String> response = send(policies(tokens.get("policy_admin")));
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("system/authz"), response.body());
    }

    private static HttpRequest.Builder decision(String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api + "/v1/data/cleargate/decision"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"input\":{}}"));
        return token == null ? request : request.header("Authorization", "Bearer " + token);
    }

    private static HttpRequest.Builder policies(String token) {
        return HttpRequest.newBuilder(URI.create(api + "/v1/policies")).header("Authorization", "Bearer " + token).GET();
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return HTTP.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitHealthy() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!opa.isAlive()) {
                fail("OPA exited with the rendered command line:\n" + Files.readString(log));
            }
            try {
                if (send(HttpRequest.newBuilder(URI.create(diagnostics + "/health?bundles")).GET()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        fail("OPA did not become healthy in 30 s:\n" + Files.readString(log));
    }

    private static String decode(String base64) {
        return new String(Base64.getDecoder().decode(base64), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
