package io.cleargate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Finding 13 of issue 12: one tenant's slow readers must not hold every backend slot. The
 * packaged gateway has one backend with four slots and the default tenant share (half of them
 * per tenant). Tenant A opens long streams and never reads them (raw sockets that only send);
 * A's requests beyond its share get 429 {@code tenant_concurrency_exceeded}, and tenant B is
 * still served while A's readers sit on their slots. An idle connection is closed after the
 * HTTP idle timeout instead of being kept for half an hour.
 */
class TenantShareIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TENANT_A = "tenant-a";
    private static final String TENANT_B = "tenant-b";
    private static final String KEY_A = "cg_0a1b2c3e_" + "a7".repeat(32);
    private static final String KEY_B = PackagedGateway.KEY;
    private static final String HOLD = "hold-the-slot";

    @Test
    void aTenantsSlowReadersHoldOnlyItsShareAndAnotherTenantIsStillServed() throws Exception {
        String devPolicy = Files.readString(OpaServer.repoRoot().resolve("policies/cleargate/tenants/dev/data.json"));
        Path data = Scratch.dir("tenant-share");
        try (var opa = OpaServer.start(Map.of("cleargate/tenants/" + TENANT_A + "/data.json", devPolicy,
                        "cleargate/tenants/" + TENANT_B + "/data.json", devPolicy));
                var upstream = new MockUpstream("mock", 0, 4, 0).slowFor(HOLD, 300, 100)) {
            // The tenants the gateway serves are those of the policy data: OPA's copy, with A and B.
            Map<String, String> slots = Map.of("cleargate.backends.mock.max-concurrency", "4",
                    "quarkus.http.idle-timeout", "20s", "cleargate.policy.admin.directory", opa.policies().toString());
            // Two development starts over one database leave one key per tenant: A's, then B's.
            try (var first = PackagedGateway.start(PackagedGateway.JAR, data, opa, upstream, Map.of(),
                    with(slots, Map.of("cleargate.dev.tenant", TENANT_A, "cleargate.dev.key", KEY_A)))) {
                assertEquals(200, first.call("GET", "/v1/models", KEY_A, null).statusCode());
            }
            try (var gateway = PackagedGateway.start(PackagedGateway.JAR, data, opa, upstream, Map.of(),
                    with(slots, Map.of("cleargate.dev.tenant", TENANT_B, "cleargate.dev.key", KEY_B)))) {
                List<Socket> readers = new ArrayList<>();
                try {
                    // A's slow readers: each sends a streaming request and never reads a byte.
                    for (int i = 0; i < 2; i++) {
                        readers.add(neverReading(gateway, KEY_A, chat(true, HOLD + " " + i)));
                    }
                    awaitInFlight(upstream, 2);

                    HttpResponse<String> overShare = gateway.call("POST", "/v1/chat/completions", KEY_A, chat(true, HOLD + " 3"));
                    assertEquals(429, overShare.statusCode(), overShare.body());
                    JsonNode error = JSON.readTree(overShare.body()).path("error");
                    assertEquals("tenant_concurrency_exceeded", error.path("code").asText(), overShare.body());
                    assertEquals("rate_limit_error", error.path("type").asText());
                    assertTrue(overShare.headers().firstValue("Retry-After").isPresent());

                    // B is served, two at a time, while A's readers still sit on their slots.
                    try (var pool = Executors.newFixedThreadPool(2)) {
                        List<Future<HttpResponse<String>>> served = new ArrayList<>();
                        for (int i = 0; i < 6; i++) {
                            int n = i;
                            served.add(pool.submit(() -> gateway.call("POST", "/v1/chat/completions", KEY_B,
                                    chat(n % 2 == 0, "tenant b " + n))));
                        }
                        for (Future<HttpResponse<String>> f : served) {
                            HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                            assertEquals(200, r.statusCode(), r.body());
                        }
                    }
                    assertEquals(2, upstream.requestsContaining(HOLD), "A's third stream never reached the backend");
                    assertTrue(upstream.inFlight() >= 2, "A's slow streams were still open while B was served");
                } finally {
                    for (Socket s : readers) {
                        s.close();
                    }
                }

                // An idle connection (here: a request line and no more) is closed after the idle
                // timeout (20 s in this test, longer than A's streams could stall; 5 minutes by
                // default, no longer half an hour).
                try (Socket idle = new Socket(InetAddress.getLoopbackAddress(), port(gateway))) {
                    idle.setSoTimeout(120_000);
                    idle.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                    long started = System.nanoTime();
                    InputStream in = idle.getInputStream();
                    while (in.read() >= 0) {
                        // whatever the gateway says before it closes
                    }
                    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
                    assertTrue(seconds >= 15 && seconds < 60, "the idle connection was closed after " + seconds + " s");
                }
            }
        }
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        var all = new java.util.LinkedHashMap<>(a);
        all.putAll(b);
        return all;
    }

    private static String chat(boolean stream, String text) {
        return "{\"model\":\"mock\",\"stream\":" + stream + ",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\""
                + text + "\"}]}";
    }

    /** A client that sends a request and never reads the answer. */
    private static Socket neverReading(PackagedGateway gateway, String key, String body) throws Exception {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port(gateway)));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n";
        socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return socket;
    }

    private static int port(PackagedGateway gateway) {
        return java.net.URI.create(gateway.url("/")).getPort();
    }

    private static void awaitInFlight(MockUpstream upstream, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (upstream.inFlight() < n && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(upstream.inFlight() >= n, "the slow streams did not reach the backend: " + upstream.inFlight());
    }
}
