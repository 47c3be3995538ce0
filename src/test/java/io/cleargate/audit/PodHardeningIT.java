package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.config.SecretsDirectory;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Finding 13 of issue 12, the packaged gateway started as the Kubernetes manifests start it:
 * secrets arrive as files in a secrets directory (a mounted Secret volume), named like the
 * variables they replace, never as environment variables; metrics are served on a port of their
 * own, so a NetworkPolicy can admit that port from the monitoring namespace alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodHardeningIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String master = Base64.getEncoder().encodeToString(Keyring.random(32));
    private final String signing = Base64.getEncoder().encodeToString(Keyring.random(32));
    private final int metricsPort = OpaServer.freePort();
    private Path data;
    private OpaServer opa;
    private MockUpstream upstream;
    private PackagedGateway gateway;

    @BeforeAll
    void start() throws Exception {
        data = Scratch.dir("pod-hardening");
        Path secrets = Scratch.dir("secrets", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        opa = OpaServer.start(Map.of());
        upstream = new MockUpstream("mock", 0, 4, 0);
        Files.writeString(secrets.resolve("CLEARGATE_AUDIT_MASTER_KEY"), master);
        Files.writeString(secrets.resolve("CLEARGATE_AUDIT_SIGNING_KEY"), signing + "\n");
        Files.writeString(secrets.resolve("CLEARGATE_POLICY_TOKEN"), opa.gatewayToken() + "\n");
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("cleargate.backends.mock.kind", "openai");
        properties.put("cleargate.backends.mock.base-url", upstream.baseUrl());
        properties.put("cleargate.backends.mock.models", "mock");
        properties.put("cleargate.policy.url", opa.url());
        properties.put("cleargate.dev.create-key", "true");
        properties.put("cleargate.dev.key", PackagedGateway.KEY);
        properties.put("cleargate.dev.key-file", data.resolve("dev-key").toString());
        properties.put("cleargate.metrics.port", String.valueOf(metricsPort));
        gateway = PackagedGateway.start(data, properties, Map.of(SecretsDirectory.VARIABLE, secrets.toString()));
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
        opa.close();
    }

    @Test
    void theGatewayTakesItsKeysAndTokensFromFilesAndNoneIsInItsEnvironmentOrLog() throws Exception {
        var served = gateway.chat("{\"model\":\"mock\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, served.statusCode(), "OPA accepted the token from the file: " + served.body());

        var checkpoints = JSON.readTree(gateway.get("/audit/checkpoints").body());
        String expected = new SigningKeys(SigningKeys.seed(signing), List.of()).currentPublicHex();
        assertEquals(expected, checkpoints.path("public_key").asText(), "checkpoints are signed with the file's key");
        assertFalse(Files.exists(data.resolve("audit/checkpoint-ed25519.seed")), "a signing key was generated");
        assertFalse(Files.exists(data.resolve("audit/master.key")), "a master key was generated");

        String environment = Files.readString(Path.of("/proc", String.valueOf(gateway.pid()), "environ"),
                StandardCharsets.UTF_8);
        assertTrue(environment.contains(SecretsDirectory.VARIABLE + "="), "the environment names only the directory");
        String log = gateway.logText();
        for (String secret : List.of(master, signing, opa.gatewayToken())) {
            assertFalse(environment.contains(secret), "a secret is in the gateway's environment");
            assertFalse(log.contains(secret), "a secret is in the gateway's log");
        }
    }

    @Test
    void metricsAreServedOnTheirOwnPortAndRefusedOnTheApiPort() throws Exception {
        gateway.chat("{\"model\":\"mock\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"count me\"}]}");
        var onApi = gateway.send(gateway.request("/q/metrics").GET());
        assertEquals(404, onApi.statusCode(), "metrics on the API port");
        assertFalse(onApi.body().contains("cleargate_"), onApi.body());
        var onApiSubpath = gateway.send(gateway.request("/q/metrics/json").GET());
        assertEquals(404, onApiSubpath.statusCode());

        HttpResponse<String> scraped = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metricsPort + "/q/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, scraped.statusCode());
        assertTrue(scraped.body().contains("cleargate_requests_total"), "the gateway's own metrics are scraped there");
        assertEquals(200, gateway.readiness(), "health stays on the API port for the kubelet");
    }
}
