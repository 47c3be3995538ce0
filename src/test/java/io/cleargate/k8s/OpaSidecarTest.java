package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
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
 * volumes would hold in the pod (the bundle ConfigMap, the projected credentials Secret and
 * manifest), so the two-bundle layout, token authentication and the authorization policy are
 * exercised as deployed. Only the listen addresses are moved to free loopback ports.
 */
class OpaSidecarTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static Process opa;
    private static Path log;
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
        JsonNode deployment = dev.gatewayDeployment();
        sidecar = dev.container(deployment, "initContainers", "opa");
        Path root = Files.createTempDirectory("cleargate-opa-sidecar-");
        int apiPort = freePort();
        diagnosticPort = freePort();

        List<String> command = new ArrayList<>();
        command.add(K8sTools.ROOT.resolve("tools/bin/opa").toString());
        for (JsonNode arg : sidecar.path("args")) {
            command.add(relocate(arg.asText(), dev, deployment, sidecar, root, apiPort, diagnosticPort));
        }
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

    /**
     * Moves an argument from the pod to this machine: listen addresses to loopback ports, and
     * paths under a volume mount to a directory holding what that volume would contain.
     */
    private static String relocate(String arg, Rendered dev, JsonNode deployment, JsonNode sidecar, Path root,
            int apiPort, int diagnosticPort) throws IOException {
        if (arg.startsWith("--addr=")) {
            return "--addr=127.0.0.1:" + apiPort;
        }
        if (arg.startsWith("--diagnostic-addr=")) {
            return "--diagnostic-addr=127.0.0.1:" + diagnosticPort;
        }
        for (JsonNode mount : sidecar.path("volumeMounts")) {
            String mountPath = mount.path("mountPath").asText();
            if (arg.equals(mountPath) || arg.startsWith(mountPath + "/")) {
                Path directory = root.resolve(mount.path("name").asText());
                if (!Files.exists(directory)) {
                    materialise(dev, volume(deployment, mount.path("name").asText()), directory);
                }
                return directory + arg.substring(mountPath.length());
            }
        }
        return arg;
    }

    /** Writes the files a ConfigMap or projected volume would show in the pod. */
    private static void materialise(Rendered dev, JsonNode volume, Path directory) throws IOException {
        Files.createDirectories(directory);
        if (volume.has("configMap")) {
            JsonNode configMap = dev.ofKind("ConfigMap")
                    .filter(c -> c.path("metadata").path("name").asText().equals(volume.path("configMap").path("name").asText()))
                    .findFirst().orElseGet(() -> fail("no ConfigMap for volume " + volume));
            writeAll(configMap, null, directory);
        } else if (volume.has("projected")) {
            for (JsonNode source : volume.path("projected").path("sources")) {
                String kind = source.has("secret") ? "Secret" : "ConfigMap";
                JsonNode ref = source.has("secret") ? source.path("secret") : source.path("configMap");
                JsonNode object = dev.ofKind(kind)
                        .filter(o -> o.path("metadata").path("name").asText().equals(ref.path("name").asText()))
                        .findFirst().orElseGet(() -> fail("no " + kind + " for " + ref));
                writeAll(object, ref.path("items"), directory);
            }
        } else {
            fail("unsupported volume " + volume);
        }
    }

    private static void writeAll(JsonNode object, JsonNode items, Path directory) throws IOException {
        boolean secret = "Secret".equals(object.path("kind").asText());
        for (String section : List.of("data", "binaryData")) {
            Iterator<Map.Entry<String, JsonNode>> entries = object.path(section).properties().iterator();
            while (entries.hasNext()) {
                Map.Entry<String, JsonNode> entry = entries.next();
                String path = itemPath(items, entry.getKey());
                if (path == null) {
                    continue;
                }
                byte[] content = secret || section.equals("binaryData")
                        ? Base64.getMimeDecoder().decode(entry.getValue().asText())
                        : entry.getValue().asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                Path file = directory.resolve(path);
                Files.createDirectories(file.getParent());
                Files.write(file, content);
            }
        }
    }

    /** Where a key lands: its item's path when items are listed (others are not projected), else the key. */
    private static String itemPath(JsonNode items, String key) {
        if (items == null || items.isMissingNode() || items.isEmpty()) {
            return key;
        }
        for (JsonNode item : items) {
            if (key.equals(item.path("key").asText())) {
                return item.path("path").asText();
            }
        }
        return null;
    }

    private static JsonNode volume(JsonNode deployment, String name) {
        for (JsonNode volume : deployment.path("spec").path("template").path("spec").path("volumes")) {
            if (name.equals(volume.path("name").asText())) {
                return volume;
            }
        }
        return fail("no volume " + name);
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
                if (send(HttpRequest.newBuilder(URI.create(diagnostics + "/health")).GET()).statusCode() == 200) {
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
