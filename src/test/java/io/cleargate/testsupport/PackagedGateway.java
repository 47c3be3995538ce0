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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged gateway (target/quarkus-app, or target/quarkus-app-pg for PostgreSQL) as a child
 * process on a free loopback port, with one mock backend serving model {@code mock}, a real OPA
 * and the development key {@link MockUpstreamResource#DEV_KEY}.
 */
public final class PackagedGateway implements AutoCloseable {

    public static final String KEY = MockUpstreamResource.DEV_KEY;
    public static final Path H2_JAR = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
    public static final Path POSTGRES_JAR = Path.of("target/quarkus-app-pg/quarkus-run.jar").toAbsolutePath();

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
     * Starts the jar with its data directory, OPA and upstream; {@code env} adds environment
     * variables (for example CLEARGATE_DB_KIND and CLEARGATE_DB_URL), {@code properties} system properties.
     */
    public static PackagedGateway start(Path jar, Path data, OpaServer opa, MockUpstream upstream,
            Map<String, String> env, Map<String, String> properties) throws Exception {
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar + " is missing: package the gateway first (bin/cleargate test builds both"
                    + " target/quarkus-app and, with build_gateway_postgres, target/quarkus-app-pg)");
        }
        Files.createDirectories(data);
        int port = OpaServer.freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-Dquarkus.http.port=" + port,
                "-Dcleargate.backends.mock.kind=openai",
                "-Dcleargate.backends.mock.base-url=" + upstream.baseUrl(),
                "-Dcleargate.backends.mock.models=mock",
                "-Dcleargate.policy.url=" + opa.url(),
                "-Dcleargate.policy.token=" + opa.gatewayToken(),
                "-Dcleargate.dev.create-key=true",
                "-Dcleargate.dev.key=" + KEY,
                "-Dcleargate.dev.key-file=" + data.resolve("dev-key")));
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-jar", jar.toString()));
        Path log = Files.createTempFile("gateway-", ".log");
        var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("CLEARGATE_DATA_DIR", data.toString());
        builder.environment().remove("CLEARGATE_DB_URL");
        builder.environment().remove("CLEARGATE_DB_KIND");
        builder.environment().remove("CLEARGATE_DEV_KEY");
        builder.environment().putAll(env);
        PackagedGateway gateway = new PackagedGateway(builder.start(), port, log);
        gateway.awaitReady(Duration.ofSeconds(180));
        return gateway;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
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

    /** A chat completion with the development key. */
    public HttpResponse<String> chat(String body) throws IOException, InterruptedException {
        return send(request("/v1/chat/completions").header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).header("Authorization", "Bearer " + KEY).GET());
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    private void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (readiness() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new AssertionError("gateway exited with " + process.exitValue() + ":\n" + logTail());
            }
            Thread.sleep(250);
        }
        close();
        throw new AssertionError("gateway not ready in " + timeout + ":\n" + logTail());
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
