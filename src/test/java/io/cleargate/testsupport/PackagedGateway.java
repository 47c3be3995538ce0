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
 * before the integration tests run) started as its own process in the prod profile, the way
 * {@code bin/cleargate up} and a container start it: H2 in a data directory, the settings given as
 * system properties and environment variables, the log in the data directory. Tests attack it
 * over real HTTP.
 */
public final class PackagedGateway implements AutoCloseable {

    public static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();

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
     * {@code environment}, and waits until it is ready (180 s at most).
     */
    public static PackagedGateway start(Path dataDir, Map<String, String> properties, Map<String, String> environment)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(JAR)) {
            throw new AssertionError(JAR + " is missing: run the integration tests through ./mvnw verify (it packages"
                    + " the gateway first), or build it with ./mvnw -B -q -DskipTests package");
        }
        Files.createDirectories(dataDir);
        int port = OpaServer.freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-Dquarkus.http.port=" + port));
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-jar", JAR.toString()));
        Path log = dataDir.resolve("gateway-" + port + ".log");
        var builder = new ProcessBuilder(command).directory(OpaServer.repoRoot().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("CLEARGATE_") || k.startsWith("QUARKUS_"));
        builder.environment().put("CLEARGATE_DATA_DIR", dataDir.toString());
        builder.environment().putAll(environment);
        Process p = builder.start();
        PackagedGateway gateway = new PackagedGateway(p, port, log);
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        gateway.awaitReady();
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

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                var response = http.send(HttpRequest.newBuilder(URI.create(url("/q/health/live"))).build(),
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
        throw new AssertionError("the gateway did not start in 180 s:\n" + tail());
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public Path log() {
        return log;
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
        }
    }
}
