package io.cleargate.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.audit.PostgresServer;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Finding 3 of issue 12, as measured: 200 unauthenticated requests whose model is 300 characters
 * long used to fail a whole group-commit audit batch, so every concurrent legitimate request got
 * 503 and readiness went DOWN. Now client strings are bounded before they reach the audit trail,
 * metrics or logs; the attack is answered with 400 in OpenAI's shape while 20 legitimate
 * concurrent requests are served and readiness stays UP, on H2 and on PostgreSQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OversizedClientInputIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LONG_MODEL = "m".repeat(300);

    private OpaServer opa;
    private MockUpstream upstream;
    private PostgresServer db;

    @BeforeAll
    void start() throws Exception {
        opa = OpaServer.start(Map.of());
        upstream = new MockUpstream("mock", 0, 4, 20);
    }

    @AfterAll
    void stop() {
        upstream.close();
        opa.close();
        if (db != null) {
            db.close();
        }
    }

    @Test
    void oversizedModelsFromStrangersCannotTakeTheAuditTrailDownOnH2() throws Exception {
        try (var gateway = PackagedGateway.start(PackagedGateway.H2_JAR, Scratch.dir("bounded-h2"), opa,
                upstream, Map.of(), Map.of())) {
            attackWhileServing(gateway);
        }
    }

    @Test
    void oversizedModelsFromStrangersCannotTakeTheAuditTrailDownOnPostgresql() throws Exception {
        db = PostgresServer.start();
        try (var gateway = PackagedGateway.start(PackagedGateway.POSTGRES_JAR, Scratch.dir("bounded-pg"), opa,
                upstream, Map.of("CLEARGATE_DB_KIND", "postgresql", "CLEARGATE_DB_URL", db.jdbcUrl(),
                        "CLEARGATE_DB_USER", db.user(), "CLEARGATE_DB_PASSWORD", "unused"), Map.of())) {
            attackWhileServing(gateway);
        }
    }

    /**
     * Finding 4, against the packaged gateway: a prompt made of the characters the private-key
     * and fake-system-turn patterns are built from (runs of dashes and of "#") costs the gateway
     * CPU time linear in its length. The gateway process's CPU time (utime + stime from
     * /proc/PID/stat) is compared between a prompt of 80,000 and one of 800,000 such characters in
     * one run: linear is at most about 10 times (less, as each request also has fixed costs),
     * quadratic about 100 (measured before the fix: 40,000 dashes took 24 s). A ratio, never a
     * time limit.
     */
    @Test
    void aLongPromptOfThePatternsOwnCharactersCostsTheGatewayLinearTime() throws Exception {
        try (var gateway = PackagedGateway.start(PackagedGateway.H2_JAR, Scratch.dir("linear"), opa,
                upstream, Map.of(), Map.of())) {
            cpuOf(gateway, 20_000); // warm-up
            long small = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                small = Math.min(small, cpuOf(gateway, 80_000));
            }
            long large = Long.MAX_VALUE;
            for (int i = 0; i < 2; i++) {
                large = Math.min(large, cpuOf(gateway, 800_000));
            }
            double ratio = (double) large / Math.max(1, small);
            System.out.printf("packaged linear-time: 80K %d ms, 800K %d ms CPU, ratio %.1f%n", small * 10, large * 10, ratio);
            assertTrue(ratio < 30, "800,000 characters cost " + ratio + "x the CPU of 80,000");
        }
    }

    /** The gateway's CPU ticks (1/100 s) spent on one chat request whose prompt is {@code n} dashes and hashes. */
    private static long cpuOf(PackagedGateway gateway, int n) throws Exception {
        String prompt = "-".repeat(n / 2) + "#".repeat(n / 2);
        long before = ticks(gateway.pid());
        HttpResponse<String> r = gateway.chat("{\"model\":\"mock\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\""
                + prompt + "\"}]}");
        long spent = ticks(gateway.pid()) - before;
        assertTrue(r.statusCode() < 500, r.statusCode() + " " + r.body().substring(0, Math.min(300, r.body().length())));
        return spent;
    }

    private static long ticks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private void attackWhileServing(PackagedGateway gateway) throws Exception {
        AtomicBoolean attacking = new AtomicBoolean(true);
        var readiness = new ConcurrentLinkedQueue<Integer>();
        List<HttpResponse<String>> attacks;
        List<HttpResponse<String>> legitimate;
        try (var pool = Executors.newFixedThreadPool(24)) {
            Future<?> watcher = pool.submit(() -> {
                while (attacking.get()) {
                    readiness.add(gateway.readiness());
                    Thread.sleep(50);
                }
                return null;
            });
            List<Future<HttpResponse<String>>> attackFutures = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                attackFutures.add(pool.submit(() -> gateway.send(gateway.request("/v1/chat/completions")
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"" + LONG_MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")))));
            }
            List<Future<HttpResponse<String>>> legitimateFutures = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                int n = i;
                legitimateFutures.add(pool.submit(() -> gateway.chat(
                        "{\"model\":\"mock\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hello " + n + "\"}]}")));
            }
            attacks = collect(attackFutures);
            legitimate = collect(legitimateFutures);
            attacking.set(false);
            watcher.get();
        }
        for (HttpResponse<String> r : legitimate) {
            assertEquals(200, r.statusCode(), r.body());
        }
        for (HttpResponse<String> r : attacks) {
            assertEquals(400, r.statusCode(), r.body());
            JsonNode error = JSON.readTree(r.body()).path("error");
            assertEquals("invalid_request_error", error.path("type").asText());
            assertEquals("model", error.path("param").asText());
            assertFalse(r.body().contains(LONG_MODEL), "the oversized value is not echoed");
        }
        assertFalse(readiness.isEmpty());
        assertTrue(readiness.stream().allMatch(s -> s == 200), "readiness stayed UP: " + readiness);
        assertEquals(200, gateway.readiness());

        // The other client strings are bounded the same way.
        HttpResponse<String> longUser = gateway.chat("{\"model\":\"mock\",\"user\":\"" + "u".repeat(300)
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(400, longUser.statusCode());
        assertEquals("user", JSON.readTree(longUser.body()).path("error").path("param").asText());
        HttpResponse<String> controlUser = gateway.chat("{\"model\":\"mock\",\"user\":\"a\\u0000b\","
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(400, controlUser.statusCode());
        HttpResponse<String> oddModel = gateway.chat("{\"model\":\"mo ck\\n\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(400, oddModel.statusCode());

        // Unknown models never become metric labels.
        HttpResponse<String> unknown = gateway.chat("{\"model\":\"no-such-model-7f3a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertTrue(unknown.statusCode() >= 400, unknown.body());
        String metrics = gateway.send(gateway.request("/q/metrics").GET()).body();
        assertFalse(metrics.contains("no-such-model-7f3a"), "an unknown model became a label");
        assertFalse(metrics.contains("mmmmmmmmmm"), "the attack's model became a label");
        assertTrue(metrics.contains("model=\"mock\""), "known models are labelled");

        // Every legitimate request was audited and the trail verifies.
        JsonNode verified = JSON.readTree(gateway.get("/audit/verify").body());
        assertTrue(verified.path("ok").asBoolean(), verified.toString());
        assertFalse(gateway.logText().contains(LONG_MODEL), "the oversized value is not logged");
    }

    private static <T> List<T> collect(List<Future<T>> futures) throws Exception {
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get());
        }
        return out;
    }
}
