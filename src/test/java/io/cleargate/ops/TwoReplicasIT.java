package io.cleargate.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.audit.PostgresServer;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.MockUpstreamResource;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.Sse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Two packaged gateways on one PostgreSQL, as two replicas of the Kubernetes Deployment: one OPA,
 * one mock upstream, the same audit master and signing keys (one Secret in Kubernetes), separate
 * data directories (nothing shared through a file system). Both replicas start together (Flyway
 * and the first chain head race as in a rollout), take concurrent streaming and plain requests,
 * and append to one audit hash chain that verifies on either replica and offline. Rate limits are
 * per replica (in-memory token buckets): the test pins that documented meaning down.
 *
 * <p>Needs the PostgreSQL build of the gateway in target/quarkus-app-pg (the database kind is
 * fixed at build time): {@code bin/cleargate test} builds it with {@code build_gateway_postgres}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoReplicasIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = MockUpstreamResource.DEV_KEY;
    private static final Path JAR = Path.of("target/quarkus-app-pg/quarkus-run.jar").toAbsolutePath();
    private static final int PER_REPLICA = 40;
    private static final int WORKERS = 8;
    /** The dev tenant's requests per minute in this test: above one replica's share of the load, below the total. */
    private static final int REQUESTS_PER_MINUTE = 45;

    record Replica(String name, int port, Process process, Path log) {
        String url(String path) {
            return "http://127.0.0.1:" + port + path;
        }
    }

    /** One request as the client saw it. */
    record Sent(Replica replica, String requestId, int status, boolean stream, String prompt) {}

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final Map<Process, Replica> replicaOf = new HashMap<>();
    private Path work;
    private PostgresServer db;
    private OpaServer opa;
    private MockUpstream upstream;
    private Replica a;
    private Replica b;
    private long loadMillis;
    private volatile boolean failed;

    /** Keeps the logs of a failed run. */
    @RegisterExtension
    final TestWatcher watcher = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            failed = true;
        }
    };

    @BeforeAll
    void startTwoReplicasAndSendTheLoad() throws Exception {
        failed = true; // until the load has gone through
        if (!Files.isRegularFile(JAR)) {
            throw new AssertionError(JAR + " is missing: build the PostgreSQL gateway first with bin/cleargate test"
                    + " (build_gateway_postgres in bin/lib/common.sh), or ./mvnw -B -q -DskipTests package"
                    + " -Dquarkus.datasource.db-kind=postgresql -Dquarkus.package.output-directory=quarkus-app-pg");
        }
        work = Files.createTempDirectory("cleargate-replicas-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> processes.forEach(Process::destroyForcibly)));
        db = PostgresServer.start();
        String tenants = Files.readString(OpaServer.repoRoot().resolve("policies/cleargate/tenants/dev/data.json"));
        String limited = tenants.replaceFirst("\"requests_per_minute\": 6000", "\"requests_per_minute\": " + REQUESTS_PER_MINUTE);
        assertFalse(limited.equals(tenants), "the dev tenant's requests_per_minute is no longer 6000; update this test");
        opa = OpaServer.start(Map.of("cleargate/tenants/dev/data.json", limited));
        upstream = new MockUpstream("mock", 0, 8, 5);
        String masterKey = base64Random(32);
        String signingSeed = base64Random(32);
        // Started together, as a Deployment rolls out, both with the development setting and the
        // same key (they race to store it; the loser finds the winner's row). A replica started
        // without the setting would revoke the key: it never survives a non-development start.
        Process pa = launch("a", true, masterKey, signingSeed);
        Process pb = launch("b", true, masterKey, signingSeed);
        a = awaitReady(pa);
        b = awaitReady(pb);
        awaitKeyAccepted(a);
        awaitKeyAccepted(b);

        long start = System.nanoTime();
        var pool = Executors.newFixedThreadPool(WORKERS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 2 * PER_REPLICA; i++) {
                Replica target = i % 2 == 0 ? a : b;
                boolean stream = (i / 2) % 2 == 0;
                int n = i;
                done.add(pool.submit(() -> chat(target, stream, "load " + n)));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        loadMillis = (System.nanoTime() - start) / 1_000_000;
        failed = false;
        System.out.printf("two replicas: %d requests in %d ms%n", 2 * PER_REPLICA, loadMillis);
    }

    @AfterAll
    void stopEverything() throws IOException {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (upstream != null) {
                upstream.close();
            }
        } finally {
            try {
                if (opa != null) {
                    opa.close();
                }
            } finally {
                if (db != null) {
                    db.close();
                }
            }
        }
        if (!failed && work != null) {
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        } else if (work != null) {
            System.out.println("two replicas: logs kept in " + work);
        }
    }

    @Test
    @Order(1)
    void bothReplicasServeConcurrentStreamingAndPlainRequests() {
        List<Sent> load = List.copyOf(sent);
        assertEquals(2 * PER_REPLICA, load.size());
        for (Sent s : load) {
            assertEquals(200, s.status(), "request " + s.prompt() + " on replica " + s.replica().name());
        }
        assertEquals(PER_REPLICA, load.stream().filter(s -> s.replica() == a).count());
        assertEquals(PER_REPLICA, load.stream().filter(s -> s.replica() == b).count());
        assertEquals(2 * PER_REPLICA, load.stream().map(Sent::requestId).distinct().count(), "request ids collide");
    }

    /**
     * The load gave the tenant more admitted requests than one shared bucket could have (a full
     * minute plus what refills while it ran); then one replica refuses once its own bucket is
     * empty while the other still admits.
     */
    @Test
    @Order(2)
    void aTenantsRateLimitIsCountedByEachReplicaOnItsOwn() throws Exception {
        long admitted = sent.stream().filter(s -> s.status() == 200).count();
        double sharedBucketAtMost = REQUESTS_PER_MINUTE * (1 + loadMillis / 60_000.0);
        assertTrue(admitted > sharedBucketAtMost, admitted + " admitted in " + loadMillis
                + " ms: no more than one shared bucket would allow (" + sharedBucketAtMost + ")");

        HttpResponse<String> refused = null;
        for (int i = 0; i < 2 * REQUESTS_PER_MINUTE && refused == null; i++) {
            HttpResponse<String> r = chat(a, false, "burst " + i);
            if (r.statusCode() == 429) {
                refused = r;
            } else {
                assertEquals(200, r.statusCode(), r.body());
            }
        }
        assertNotNull(refused, "replica a never refused the tenant");
        System.out.printf("two replicas: %d admitted during the load, replica a refused after %d more%n", admitted,
                sent.stream().filter(s -> s.prompt().startsWith("burst ") && s.status() == 200).count());
        JsonNode error = JSON.readTree(refused.body()).path("error");
        assertEquals("rate_limit_exceeded", error.path("code").asText(), refused.body());
        assertTrue(refused.headers().firstValue("Retry-After").isPresent());
        // Replica b's bucket still holds what its own share of the load left (at least 5).
        HttpResponse<String> other = chat(b, false, "after burst");
        assertEquals(200, other.statusCode(), "replica b refused although only replica a's bucket is empty: "
                + other.body());
    }

    @Test
    @Order(3)
    void theAuditChainWrittenByBothReplicasVerifiesOnEitherReplica() throws Exception {
        // Sign the heads now on both (as their schedules would), so checkpoints of both are checked.
        post(a, "/audit/checkpoints");
        post(b, "/audit/checkpoints");
        for (Replica r : List.of(a, b)) {
            JsonNode verified = get(r, "/audit/verify");
            assertTrue(verified.path("ok").asBoolean(), "replica " + r.name() + ": " + verified);
            JsonNode dev = chain(verified, "dev");
            assertTrue(dev.path("records").asLong() >= expectedRecords(), r.name() + ": " + dev);
            assertTrue(dev.path("checkpointsVerified").asInt() >= 1, r.name() + ": " + dev);
        }
    }

    /**
     * The export taken from one replica holds every record of every request sent to either, in
     * one contiguous sequence in which the two replicas' records interleave, and audit/verify
     * accepts it with the signing key pinned.
     */
    @Test
    @Order(4)
    void anExportFromOneReplicaHoldsEveryRequestOfBothAndVerifiesOffline() throws Exception {
        String publicKey = post(a, "/audit/checkpoints").path("public_key").asText();
        assertEquals(publicKey, post(b, "/audit/checkpoints").path("public_key").asText(),
                "replicas sign with different keys");
        HttpResponse<String> export = http.send(request(b, "/audit/export").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, export.statusCode(), export.body());
        Path file = work.resolve("export.jsonl");
        Files.writeString(file, export.body());

        Process verify = new ProcessBuilder("python3", "audit/verify", file.toString(), "--pubkey", publicKey)
                .redirectErrorStream(true).start();
        String output = new String(verify.getInputStream().readAllBytes());
        assertTrue(verify.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, verify.exitValue(), output);

        List<JsonNode> records = new ArrayList<>();
        for (String line : export.body().split("\n")) {
            JsonNode item = line.isBlank() ? null : JSON.readTree(line);
            if (item != null && "record".equals(item.path("type").asText()) && "dev".equals(item.path("chain").asText())) {
                records.add(item);
            }
        }
        records.sort(Comparator.comparingLong(r -> r.path("seq").asLong()));
        Map<String, Set<String>> kindsByRequest = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            assertEquals(i + 1, records.get(i).path("seq").asLong(), "sequence numbers are not contiguous");
            JsonNode body = JSON.readTree(records.get(i).path("body").asText());
            if (body.hasNonNull("request_id")) {
                kindsByRequest.computeIfAbsent(body.path("request_id").asText(), k -> new HashSet<>())
                        .add(body.path("kind").asText());
            }
        }
        for (Sent s : List.copyOf(sent)) {
            Set<String> want = s.status() == 200 ? Set.of("request", "final") : Set.of("refusal");
            assertEquals(want, kindsByRequest.get(s.requestId()),
                    "records of " + s.prompt() + " (" + s.status() + ") on replica " + s.replica().name());
        }

        Map<String, Replica> servedBy = new HashMap<>();
        sent.forEach(s -> servedBy.put(s.requestId(), s.replica()));
        Replica previous = null;
        int switches = 0;
        for (JsonNode r : records) {
            JsonNode body = JSON.readTree(r.path("body").asText());
            Replica by = servedBy.get(body.path("request_id").asText(""));
            if (by != null && previous != null && by != previous) {
                switches++;
            }
            previous = by == null ? previous : by;
        }
        System.out.printf("two replicas: %d records in chain dev, replica changes %d times along it%n", records.size(),
                switches);
        assertTrue(switches >= 10, "the replicas' records do not interleave in one chain (" + switches + " switches)");
    }

    /** Content is encrypted under data keys wrapped by the shared master key: any replica reads it. */
    @Test
    @Order(5)
    void contentRecordedByOneReplicaIsReadableOnTheOther() throws Exception {
        Sent fromA = sent.stream().filter(s -> s.replica() == a && s.status() == 200).findFirst().orElseThrow();
        JsonNode items = get(b, "/audit/records?request_id=" + fromA.requestId()).path("items");
        assertEquals(1, items.size(), items.toString());
        JsonNode detail = get(b, "/audit/records/" + items.get(0).path("id").asLong());
        boolean found = false;
        for (JsonNode entry : detail.path("entries")) {
            JsonNode content = entry.path("content");
            if ("encrypted".equals(content.path("mode").asText())) {
                assertFalse(content.path("erased").asBoolean(), detail.toString());
                found |= content.path("text").asText().contains(fromA.prompt());
            }
        }
        assertTrue(found, "replica b could not read the prompt replica a encrypted: " + detail);
    }

    // --- requests

    private HttpResponse<String> chat(Replica target, boolean stream, String prompt) {
        String body = "{\"model\":\"mock\",\"stream\":" + stream + ",\"max_tokens\":64,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
        try {
            HttpResponse<String> response = http.send(request(target, "/v1/chat/completions")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            String id = response.headers().firstValue("x-request-id").orElseThrow();
            int status = response.statusCode();
            if (status == 200 && !completeAnswer(stream, response.body())) {
                status = -1; // the client did not get a whole answer
            }
            sent.add(new Sent(target, id, status, stream, prompt));
            return response;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean completeAnswer(boolean stream, String body) throws IOException {
        if (!stream) {
            return !JSON.readTree(body).path("choices").path(0).path("message").path("content").asText().isEmpty();
        }
        List<String> data = Sse.data(body);
        return data.size() > 2 && "[DONE]".equals(data.getLast());
    }

    private HttpRequest.Builder request(Replica r, String path) {
        return HttpRequest.newBuilder(URI.create(r.url(path))).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + KEY);
    }

    private JsonNode get(Replica r, String path) throws Exception {
        var response = http.send(request(r, path).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), r.name() + " " + path + ": " + response.body());
        return JSON.readTree(response.body());
    }

    private JsonNode post(Replica r, String path) throws Exception {
        var response = http.send(request(r, path).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), r.name() + " " + path + ": " + response.body());
        return JSON.readTree(response.body());
    }

    private static JsonNode chain(JsonNode verified, String id) {
        for (JsonNode c : verified.path("chains")) {
            if (id.equals(c.path("chain").asText())) {
                return c;
            }
        }
        throw new AssertionError("no chain " + id + " in " + verified);
    }

    /** Two records per answered request, one per refusal. */
    private long expectedRecords() {
        return sent.stream().mapToLong(s -> s.status() == 200 ? 2 : 1).sum();
    }

    // --- processes

    private Process launch(String name, boolean createKey, String masterKey, String signingSeed) throws IOException {
        Path data = Files.createDirectories(work.resolve(name));
        int port = OpaServer.freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx512m", "-Dquarkus.http.port=" + port,
                "-Dcleargate.backends.mock.kind=openai",
                "-Dcleargate.backends.mock.base-url=" + upstream.baseUrl(),
                "-Dcleargate.backends.mock.models=mock",
                "-Dcleargate.backends.mock.region=local",
                "-Dcleargate.policy.url=" + opa.url(),
                "-Dcleargate.policy.token=" + opa.gatewayToken(),
                "-Dcleargate.policy.admin.opa-token=" + opa.adminToken(),
                "-Dcleargate.policy.admin.directory=" + opa.policies(),
                "-Dcleargate.policy.admin.opa-binary=" + OpaServer.opaBinary(),
                "-Dcleargate.dev.create-key=" + createKey,
                "-Dcleargate.dev.key-file=" + data.resolve("dev-key"),
                "-Dquarkus.datasource.username=" + db.user(),
                "-Dquarkus.datasource.password=unused"));
        if (createKey) {
            command.add("-Dcleargate.dev.key=" + KEY);
        }
        command.addAll(List.of("-jar", JAR.toString()));
        var builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(data.resolve("gateway.log").toFile());
        builder.environment().put("CLEARGATE_DATA_DIR", data.toString());
        builder.environment().put("CLEARGATE_DB_KIND", "postgresql");
        builder.environment().put("CLEARGATE_DB_URL", db.jdbcUrl());
        builder.environment().put("CLEARGATE_AUDIT_MASTER_KEY", masterKey);
        builder.environment().put("CLEARGATE_AUDIT_SIGNING_KEY", signingSeed);
        builder.environment().remove("CLEARGATE_DEV_KEY");
        Process p = builder.start();
        processes.add(p);
        replicaOf.put(p, new Replica(name, port, p, data.resolve("gateway.log")));
        return p;
    }

    private Replica awaitReady(Process p) throws Exception {
        Replica r = replicaOf.get(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                var response = http.send(HttpRequest.newBuilder(URI.create(r.url("/q/health/ready"))).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return r;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive()) {
                throw new AssertionError("replica " + r.name() + " exited with " + p.exitValue() + ":\n" + tail(r.log()));
            }
            Thread.sleep(250);
        }
        throw new AssertionError("replica " + r.name() + " not ready in 180 s:\n" + tail(r.log()));
    }

    /** Replica b starts without creating the key: wait until replica a has stored it. */
    private void awaitKeyAccepted(Replica r) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int status = 0;
        while (System.nanoTime() < deadline) {
            status = http.send(request(r, "/audit/records?limit=1").GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status == 200) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("replica " + r.name() + " does not accept the development key (" + status + ")");
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static String base64Random(int bytes) {
        byte[] b = new byte[bytes];
        new java.security.SecureRandom().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }
}
