package io.cleargate.audit;

import io.cleargate.testsupport.OpaServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.cleargate.testsupport.Scratch;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Crash durability of the packaged gateway: many concurrent streaming requests, SIGKILL in the
 * middle, restart on the same data directory. Every response a client received in full has a
 * complete final record, every response that had started has at least its request record, and
 * the chain verifies. Needs the OpenAI-compatible API and upstream engine (the lead's API layer).
 */
class AuditCrashIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The development key (tenant "dev", every role, auditor included) both gateway runs accept. */
    private static final String KEY = "cg_c4a5b1e0_" + "7d".repeat(32);
    private static final int REQUESTS = 48;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Seen(String requestId, boolean done) {}

    private OpaServer opa;

    @Test
    void everyResponseAClientReceivedHasItsRecordAfterSigkillAndTheChainVerifies() throws Exception {
        Path data = Scratch.dir("cleargate-crash");
        HttpServer upstream = slowUpstream();
        opa = OpaServer.start(Map.of()); // a real OPA decides, as in production; it outlives the kill
        int port = freePort();
        Process gateway = start(data, upstream.getAddress().getPort(), port);
        Map<Integer, Seen> seen = new ConcurrentHashMap<>();
        try {
            AtomicInteger done = new AtomicInteger();
            CountDownLatch enough = new CountDownLatch(8);
            var pool = Executors.newVirtualThreadPerTaskExecutor();
            for (int i = 0; i < REQUESTS; i++) {
                int n = i;
                pool.submit(() -> stream(port, n, seen, done, enough));
                Thread.sleep(25); // staggered, so the kill finds streams at every stage
            }
            assertTrue(enough.await(120, TimeUnit.SECONDS), "no stream completed before the kill");
            gateway.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no flush
            gateway.waitFor(30, TimeUnit.SECONDS);
            pool.shutdown();
            pool.awaitTermination(60, TimeUnit.SECONDS);
            assertTrue(seen.size() - done.get() >= 5, "the kill came too late to interrupt enough streams");
            System.out.printf("crash test: %d streams started, %d completed before SIGKILL%n", seen.size(), done.get());

            gateway = start(data, upstream.getAddress().getPort(), port);
            for (Seen s : seen.values()) {
                JsonNode items = get(port, "/audit/records?request_id=" + s.requestId()).path("items");
                assertEquals(1, items.size(), "no record for " + s.requestId());
                if (s.done()) {
                    assertEquals("final", items.get(0).path("kind").asText());
                    assertEquals("complete", items.get(0).path("state").asText());
                }
            }
            JsonNode verified = get(port, "/audit/verify");
            assertTrue(verified.path("ok").asBoolean(), verified.toString());
        } finally {
            gateway.destroyForcibly();
            upstream.stop(0);
            opa.close();
        }
        assertTrue(seen.values().stream().anyMatch(Seen::done));
        // Passed: the data directory is kept only when the test fails, for its logs.
        try (var files = Files.walk(data)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private void stream(int port, int n, Map<Integer, Seen> seen, AtomicInteger done, CountDownLatch enough) {
        String body = "{\"model\":\"mock\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello " + n + "\"}]}";
        try {
            HttpResponse<java.util.stream.Stream<String>> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + KEY)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
            String id = response.headers().firstValue("x-request-id").orElseThrow();
            if (response.statusCode() != 200) {
                return;
            }
            seen.put(n, new Seen(id, false));
            try (var lines = response.body()) {
                if (lines.anyMatch("data: [DONE]"::equals)) {
                    seen.put(n, new Seen(id, true));
                    done.incrementAndGet();
                    enough.countDown();
                }
            }
        } catch (IOException | java.io.UncheckedIOException | InterruptedException e) {
            // The gateway was killed under this request: what the client got so far is in `seen`.
        }
    }

    private JsonNode get(int port, String path) throws Exception {
        var response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private Process start(Path data, int upstreamPort, int port) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dquarkus.http.port=" + port,
                "-Dcleargate.backends.mock.kind=openai",
                "-Dcleargate.backends.mock.base-url=http://127.0.0.1:" + upstreamPort + "/v1",
                "-Dcleargate.backends.mock.models=mock",
                "-Dcleargate.policy.url=" + opa.url(),
                "-Dcleargate.policy.token=" + opa.gatewayToken(),
                "-Dcleargate.dev.create-key=true",
                "-Dcleargate.dev.key=" + KEY,
                "-Dcleargate.dev.key-file=" + data.resolve("dev-key"),
                "-jar", Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString()));
        // The default database (an H2 file in the data directory), as a gateway runs out of the box.
        var builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(data.resolve("gateway-" + System.nanoTime() + ".log").toFile());
        builder.environment().put("CLEARGATE_DATA_DIR", data.toString());
        builder.environment().remove("CLEARGATE_DB_URL");
        builder.environment().remove("CLEARGATE_DB_KIND");
        Process p = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return p;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive()) {
                throw new AssertionError("gateway exited with " + p.exitValue() + "; log in " + data);
            }
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new AssertionError("gateway not ready in 120 s; log in " + data);
    }

    /** An OpenAI-style upstream that streams 80 small chunks, 15 ms apart. */
    private static HttpServer slowUpstream() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/models", ex -> {
            byte[] body = "{\"object\":\"list\",\"data\":[{\"id\":\"mock\",\"object\":\"model\"}]}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 80; i++) {
                    out.write(("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"mock\",\"choices\":"
                            + "[{\"index\":0,\"delta\":{\"content\":\"tok" + i + " \"},\"finish_reason\":null}]}\n\n")
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    Thread.sleep(15);
                }
                out.write(("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"mock\",\"choices\":"
                        + "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                        + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":80}}\n\ndata: [DONE]\n\n")
                        .getBytes(StandardCharsets.UTF_8));
            } catch (InterruptedException | IOException e) {
                // client (the gateway) went away
            }
        });
        server.start();
        return server;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
