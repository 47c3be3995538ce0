package io.cleargate.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged gateway ({@code target/quarkus-app/quarkus-run.jar}, built by {@code ./mvnw verify}
 * before the integration tests run; {@code target/quarkus-app-pg} for PostgreSQL) started as its
 * own process in the prod profile, the way {@code bin/cleargate up} and a container start it: a
 * database in a data directory, the settings given as system properties and environment
 * variables. Tests attack it over real HTTP.
 */
public final class PackagedGateway implements AutoCloseable {

    public static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
    public static final Path H2_JAR = JAR;
    public static final Path POSTGRES_JAR = Path.of("target/quarkus-app-pg/quarkus-run.jar").toAbsolutePath();
    /** The development key of {@link #start(Path, Path, OpaServer, MockUpstream, Map, Map)}. */
    public static final String KEY = MockUpstreamResource.DEV_KEY;

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PackagedGateway(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts the jar on a free port over {@code dataDir} with {@code properties} (-D) and
     * {@code environment}, and waits until it is live (180 s at most). The log is in the data directory.
     */
    public static PackagedGateway start(Path dataDir, Map<String, String> properties, Map<String, String> environment)
            throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        int port = OpaServer.freePort();
        PackagedGateway gateway = launch(List.of(), JAR, dataDir, port, properties, environment,
                dataDir.resolve("gateway-" + port + ".log"));
        gateway.await("/q/health/live");
        return gateway;
    }

    /**
     * Starts {@code jar} over {@code data} with one mock backend serving model {@code mock}, the
     * given OPA and the development key {@link #KEY}, and waits until it is ready; {@code env} adds
     * environment variables (CLEARGATE_DB_KIND, CLEARGATE_DB_URL, ...), {@code properties} system
     * properties. The log is a temporary file outside {@code data}, so a test may fill the data
     * directory's filesystem without losing it.
     */
    public static PackagedGateway start(Path jar, Path data, OpaServer opa, MockUpstream upstream,
            Map<String, String> env, Map<String, String> properties) throws IOException, InterruptedException {
        return start(jar, data, opa, upstream, env, properties, List.of());
    }

    /**
     * As {@link #start(Path, Path, OpaServer, MockUpstream, Map, Map)}, with {@code wrapper} put before
     * the java command (for example a mount namespace that gives the data directory a small disk;
     * the wrapper must exec java, so {@link #pid()} is the gateway's).
     */
    public static PackagedGateway start(Path jar, Path data, OpaServer opa, MockUpstream upstream,
            Map<String, String> env, Map<String, String> properties, List<String> wrapper)
            throws IOException, InterruptedException {
        Files.createDirectories(data);
        int port = OpaServer.freePort();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("cleargate.backends.mock.kind", "openai");
        p.put("cleargate.backends.mock.base-url", upstream.baseUrl());
        p.put("cleargate.backends.mock.models", "mock");
        p.put("cleargate.policy.url", opa.url());
        p.put("cleargate.policy.token", opa.gatewayToken());
        p.put("cleargate.dev.create-key", "true");
        p.put("cleargate.dev.key", KEY);
        p.put("cleargate.dev.key-file", data.resolve("dev-key").toString());
        p.putAll(properties);
        PackagedGateway gateway = launch(wrapper, jar, data, port, p, env, Scratch.file("gateway-", ".log"));
        gateway.await("/q/health/ready");
        return gateway;
    }

    /** The settings every attack run shares: no development key, the given OPA, one audit key pair. */
    public static Map<String, String> governed(OpaServer opa) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("cleargate.policy.url", opa.url());
        p.put("cleargate.policy.token", opa.gatewayToken());
        p.put("cleargate.policy.admin.opa-token", opa.adminToken());
        p.put("cleargate.policy.admin.directory", opa.policies().toString());
        p.put("cleargate.policy.admin.opa-binary", OpaServer.opaBinary().toString());
        return p;
    }

    private static PackagedGateway launch(List<String> wrapper, Path jar, Path dataDir, int port, Map<String, String> properties,
            Map<String, String> environment, Path log) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar + " is missing: run the integration tests through ./mvnw verify (it packages"
                    + " the gateway first; bin/cleargate test also builds target/quarkus-app-pg with"
                    + " build_gateway_postgres), or build it with ./mvnw -B -q -DskipTests package");
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-Dquarkus.http.port=" + port));
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-jar", jar.toString()));
        var builder = new ProcessBuilder(command).directory(OpaServer.repoRoot().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("CLEARGATE_") || k.startsWith("QUARKUS_"));
        builder.environment().put("CLEARGATE_DATA_DIR", dataDir.toString());
        builder.environment().putAll(environment);
        Process p = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        return new PackagedGateway(p, port, log);
    }

    private void await(String probe) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                var response = http.send(HttpRequest.newBuilder(URI.create(url(probe))).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new AssertionError("the gateway exited with " + process.exitValue() + ":\n" + tail());
            }
            Thread.sleep(250);
        }
        String tail = tail();
        close();
        throw new AssertionError("the gateway did not answer 200 on " + probe + " in 180 s:\n" + tail);
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** The gateway's process id. */
    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    /** The whole log as text. */
    public String logText() throws IOException {
        return Files.readString(log);
    }

    /** The response to {@code method path} with {@code body} (JSON, or none when null) and a bearer credential. */
    public HttpResponse<String> call(String method, String path, String bearer, String body) {
        var builder = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(90));
        if (bearer != null) {
            builder.header("Authorization", "Bearer " + bearer);
        }
        if (body != null) {
            builder.header("Content-Type", "application/json");
        }
        builder.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The readiness status code right now (200 UP, 503 DOWN). */
    public int readiness() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url("/q/health/ready"))).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(url(path)));
    }

    /** A chat completion with the development key {@link #KEY}. */
    public HttpResponse<String> chat(String body) throws IOException, InterruptedException {
        return send(request("/v1/chat/completions").header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    /** A GET with the development key {@link #KEY}. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).header("Authorization", "Bearer " + KEY).GET());
    }

    /** The last 60 lines of the log. */
    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the process (by its own handle) and waits for it, so its database file is free again. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
