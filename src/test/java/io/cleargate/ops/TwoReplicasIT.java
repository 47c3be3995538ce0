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
import io.cleargate.testsupport.RedisServer;
import io.cleargate.testsupport.Scratch;
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
 * counted in one Redis (Debian's redis-server) that both replicas share: a tenant's requests and
 * tokens per minute hold across the two, and while the store is down both refuse with a clear 503
 * until it is back, without a restart. A third replica, idle until then, is configured with the
 * documented per-replica fallback and serves through the outage on its own counts.
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
    /** The dev tenant's requests per minute in the shared-limit test. */
    private static final int REQUESTS_PER_MINUTE = 10;
    /** The dev tenant's tokens per minute in the token-budget test. */
    private static final int TOKENS_PER_MINUTE = 300;

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
    private RedisServer redis;
    private MockUpstream upstream;
    private Replica a;
    private Replica b;
    /** A third replica of the same deployment configured to count per replica while the store is down. */
    private Replica c;
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
        work = Scratch.dir("cleargate-replicas-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> processes.forEach(Process::destroyForcibly)));
        db = PostgresServer.start();
        opa = OpaServer.start(Map.of());
        redis = RedisServer.start();
        upstream = new MockUpstream("mock", 0, 8, 5);
        String masterKey = base64Random(32);
        String signingSeed = base64Random(32);
        // Started together, as a Deployment rolls out, both with the development setting and the
        // same key (they race to store it; the loser finds the winner's row). A replica started
        // without the setting would revoke the key: it never survives a non-development start.
        Process pa = launch("a", true, masterKey, signingSeed, "refuse");
        Process pb = launch("b", true, masterKey, signingSeed, "refuse");
        Process pc = launch("c", true, masterKey, signingSeed, "per-replica");
        a = awaitReady(pa);
        b = awaitReady(pb);
        c = awaitReady(pc);
        awaitKeyAccepted(a);
        awaitKeyAccepted(b);
        awaitKeyAccepted(c);

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
                try {
                    if (db != null) {
                        db.close();
                    }
                } finally {
                    if (redis != null) {
                        redis.close();
                    }
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

    /**
     * Requests per minute are counted once for both replicas: twenty requests alternated between
     * them admit the tenant's ten (plus what refills while they run, one every six seconds), five
     * on each; every other one is refused on whichever replica it reached.
     */
    @Test
    @Order(6)
    void oneTenantsRequestLimitHoldsAcrossBothReplicas() throws Exception {
        setDevLimits(REQUESTS_PER_MINUTE, 10_000_000);
        long start = System.nanoTime();
        Map<String, Integer> admittedBy = new HashMap<>();
        List<HttpResponse<String>> refusals = new ArrayList<>();
        for (int i = 0; i < 2 * REQUESTS_PER_MINUTE; i++) {
            Replica target = i % 2 == 0 ? a : b;
            HttpResponse<String> r = chat(target, false, "shared limit " + i);
            if (r.statusCode() == 200) {
                admittedBy.merge(target.name(), 1, Integer::sum);
            } else {
                assertEquals(429, r.statusCode(), r.body());
                refusals.add(r);
            }
            if (i < REQUESTS_PER_MINUTE) {
                assertEquals(200, r.statusCode(), "request " + i + " within the limit: " + r.body());
            }
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        int admitted = admittedBy.values().stream().mapToInt(Integer::intValue).sum();
        long refilled = elapsedMillis * REQUESTS_PER_MINUTE / 60_000;
        System.out.printf("two replicas, one limit of %d/min: %d of %d admitted in %d ms (a %s, b %s)%n",
                REQUESTS_PER_MINUTE, admitted, 2 * REQUESTS_PER_MINUTE, elapsedMillis, admittedBy.get("a"),
                admittedBy.get("b"));
        assertTrue(admitted >= REQUESTS_PER_MINUTE && admitted <= REQUESTS_PER_MINUTE + refilled,
                admitted + " admitted in " + elapsedMillis + " ms by both replicas together (limit " + REQUESTS_PER_MINUTE
                        + " a minute; per-replica counting would admit " + 2 * REQUESTS_PER_MINUTE + ")");
        assertTrue(admittedBy.getOrDefault("a", 0) >= REQUESTS_PER_MINUTE / 2
                && admittedBy.getOrDefault("b", 0) >= REQUESTS_PER_MINUTE / 2, admittedBy.toString());
        JsonNode error = JSON.readTree(refusals.getFirst().body()).path("error");
        assertEquals("rate_limit_exceeded", error.path("code").asText());
        assertEquals("requests_per_minute", error.path("limit").asText());
        assertTrue(refusals.getFirst().headers().firstValue("Retry-After").isPresent());
    }

    /**
     * Tokens per minute likewise: replica a spends the tenant's budget (each answer settles on the
     * tokens it used, so far more requests pass than whole reservations would allow), and then
     * replica b refuses a request the budget cannot hold, although b itself served nothing.
     */
    @Test
    @Order(7)
    void oneTenantsTokenBudgetHoldsAcrossBothReplicasAndSettlesOnTokensUsed() throws Exception {
        setDevLimits(6000, TOKENS_PER_MINUTE);
        int admittedOnA = 0;
        HttpResponse<String> refusedOnA = null;
        for (int i = 0; i < 60 && refusedOnA == null; i++) {
            HttpResponse<String> r = chat(a, false, "budget " + i);
            if (r.statusCode() == 200) {
                admittedOnA++;
            } else {
                refusedOnA = r;
            }
        }
        assertNotNull(refusedOnA, "replica a never ran out of the tenant's " + TOKENS_PER_MINUTE + " tokens");
        assertEquals(429, refusedOnA.statusCode(), refusedOnA.body());
        assertEquals("tokens_per_minute", JSON.readTree(refusedOnA.body()).path("error").path("limit").asText());
        // Each request reserves its prompt and 64 tokens, at most 4 whole reservations in 300; the
        // mock answers with 20 tokens used, and the rest goes back to the shared budget.
        assertTrue(admittedOnA >= 8, admittedOnA + " requests passed: reservations were not settled on the tokens used");

        // About 200 tokens reserved: more than replica a left, and more than refills in 20 s.
        HttpResponse<String> onB = chat(b, false, "budget on b", 200);
        assertEquals(429, onB.statusCode(), "replica b admitted although the tenant's budget is spent on a: "
                + onB.body());
        JsonNode error = JSON.readTree(onB.body()).path("error");
        assertEquals("rate_limit_exceeded", error.path("code").asText());
        assertEquals("tokens_per_minute", error.path("limit").asText());
        System.out.printf("two replicas, one budget of %d tokens/min: a admitted %d, then a and b refused%n",
                TOKENS_PER_MINUTE, admittedOnA);
    }

    /**
     * With the store down neither replica can count, so both refuse with 503
     * rate_limit_store_unavailable (the default; nothing passes uncounted) and count the errors,
     * while a third replica configured with the per-replica fallback serves on its own counts;
     * once the store is back all serve from it again, without a restart.
     */
    @Test
    @Order(8)
    void stoppingTheStoreMakesBothReplicasRefuseAndStartingItAgainRecovers() throws Exception {
        setDevLimits(6000, 10_000_000);
        for (Replica r : List.of(a, b)) {
            assertEquals(200, chat(r, false, "before the outage").statusCode());
        }
        redis.stop();
        // The replica configured with the documented per-replica fallback keeps serving and says so.
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> counted = chat(c, false, "fallback during the outage " + i);
            assertEquals(200, counted.statusCode(), "replica c (per-replica fallback): " + counted.body());
        }
        String fallbackMetrics = metrics(c);
        assertTrue(gaugeIs(fallbackMetrics, "cleargate_rate_limit_store_up", "0.0"), "c does not report the store down");
        assertEquals(3.0, metricValue(fallbackMetrics, "cleargate_rate_limit_store_fallbacks_total"),
                "c did not count its three requests per replica: " + metricLines(fallbackMetrics, "cleargate_rate_limit_store"));
        for (Replica r : List.of(a, b)) {
            HttpResponse<String> refused = chat(r, false, "during the outage");
            assertEquals(503, refused.statusCode(), r.name() + ": " + refused.body());
            JsonNode error = JSON.readTree(refused.body()).path("error");
            assertEquals("rate_limit_store_unavailable", error.path("code").asText(), refused.body());
            assertEquals("service_unavailable", error.path("type").asText(), refused.body());
            String metrics = metrics(r);
            assertTrue(gaugeIs(metrics, "cleargate_rate_limit_store_up", "0.0"), r.name() + " does not report the store down");
            assertTrue(metricValue(metrics, "cleargate_rate_limit_store_errors_total{operation=\"acquire\"}") >= 1,
                    r.name() + " counted no store error: " + metricLines(metrics, "cleargate_rate_limit_store"));
        }

        redis.startAgain();
        long back = System.nanoTime();
        for (Replica r : List.of(a, b, c)) {
            int status = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (status != 200 && System.nanoTime() < deadline) {
                status = chat(r, false, "after the outage").statusCode();
                if (status != 200) {
                    Thread.sleep(100);
                }
            }
            assertEquals(200, status, "replica " + r.name() + " did not recover once the store was back");
            assertTrue(gaugeIs(metrics(r), "cleargate_rate_limit_store_up", "1.0"), r.name() + " does not report the store up");
        }
        System.out.printf("two replicas: both served again %d ms after the store restarted%n",
                (System.nanoTime() - back) / 1_000_000);
    }

    /** Replaces the dev tenant's limits in OPA, then waits out the replicas' decision caches (1 s). */
    private void setDevLimits(int requestsPerMinute, int tokensPerMinute) throws Exception {
        String limits = "{\"max_tokens\":8192,\"max_tokens_action\":\"clamp\",\"requests_per_minute\":"
                + requestsPerMinute + ",\"tokens_per_minute\":" + tokensPerMinute + "}";
        var response = http.send(HttpRequest.newBuilder(URI.create(opa.url() + "/v1/data/cleargate/tenants/dev/limits"))
                .header("Authorization", "Bearer " + opa.adminToken()).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(limits)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, response.statusCode(), response.body());
        Thread.sleep(1_500);
    }

    /** The sum of a metric's series, 0 when it has none (an exemplar after " # " is not the value). */
    private static double metricValue(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .map(l -> l.contains(" # ") ? l.substring(0, l.indexOf(" # ")) : l)
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static String metricLines(String metrics, String prefix) {
        return String.join("\n", metrics.lines().filter(l -> l.startsWith(prefix)).toList());
    }

    private static boolean gaugeIs(String metrics, String name, String value) {
        return metricValue(metrics, name) == Double.parseDouble(value);
    }

    private String metrics(Replica r) throws Exception {
        var response = http.send(HttpRequest.newBuilder(URI.create(r.url("/q/metrics"))).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    // --- requests

    private HttpResponse<String> chat(Replica target, boolean stream, String prompt) {
        return chat(target, stream, prompt, 64);
    }

    private HttpResponse<String> chat(Replica target, boolean stream, String prompt, int maxTokens) {
        String body = "{\"model\":\"mock\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens + ","
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

    private Process launch(String name, boolean createKey, String masterKey, String signingSeed,
            String onStoreUnavailable) throws IOException {
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
                "-Dcleargate.rate-limits.store=redis",
                "-Dcleargate.rate-limits.redis-url=" + redis.url(),
                "-Dcleargate.rate-limits.on-store-unavailable=" + onStoreUnavailable,
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
