package io.cleargate.testsupport;

import io.cleargate.policy.PolicyTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real OPA process for tests, started the way bin/lib/opa.sh starts it: loopback only, a free
 * port, token authentication with the system.authz policy, fresh tokens per run, the console
 * decision logger on. Installs tools/bin/opa with go install when it is missing and fails loudly
 * when it cannot. {@link #shared()} is one server per JVM over a copy of policies/;
 * {@link #start(Map)} starts a private one over a copy with some files replaced (null deletes).
 */
public final class OpaServer implements AutoCloseable {

    public static final String OPA_VERSION = "v1.22.3";

    private static OpaServer shared;

    private final Process process;
    private final int port;
    private final Path policies;
    private final Path runDir;
    private final String gatewayToken;
    private final String adminToken;
    private final String revision;

    private OpaServer(Process process, int port, Path policies, Path runDir, String gatewayToken, String adminToken,
            String revision) {
        this.process = process;
        this.port = port;
        this.policies = policies;
        this.runDir = runDir;
        this.gatewayToken = gatewayToken;
        this.adminToken = adminToken;
        this.revision = revision;
    }

    public static synchronized OpaServer shared() {
        if (shared == null || !shared.process.isAlive()) {
            shared = start(Map.of());
            OpaServer s = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(s::close));
        }
        return shared;
    }

    /** A private server over a copy of policies/ with {@code changes} applied (path to content, null deletes). */
    public static OpaServer start(Map<String, String> changes) {
        Path opa = opaBinary();
        try {
            Path dir = Scratch.dir("cleargate-opa-test-");
            Path policies = dir.resolve("policies");
            copyTree(repoRoot().resolve("policies"), policies);
            for (var e : changes.entrySet()) {
                Path target = policies.resolve(e.getKey());
                if (e.getValue() == null) {
                    Files.deleteIfExists(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.writeString(target, e.getValue());
                }
            }
            Path run = dir.resolve("run");
            Files.createDirectories(run);
            String gateway = randomToken();
            String admin = randomToken();
            Files.writeString(run.resolve("opa-gateway.token"), gateway);
            Files.writeString(run.resolve("opa-admin.token"), admin);
            Files.writeString(run.resolve("opa-credentials.json"),
                    "{\"gateway\":\"" + sha256(gateway) + "\",\"policy_admin\":\"" + sha256(admin) + "\"}");
            String revision = PolicyTree.revision(readTree(policies));
            Files.writeString(run.resolve("opa-meta.json"), "{\"revision\":\"" + revision + "\"}");
            int port = freePort();
            List<String> command = List.of(opa.toString(), "run", "--server", "--addr", "127.0.0.1:" + port,
                    "--authentication=token", "--authorization=basic", "--set", "decision_logs.console=true",
                    "--ignore", "*_test.rego", "--ignore", ".*", "--log-level", "error",
                    policies.toString(),
                    "system.credentials:" + run.resolve("opa-credentials.json"),
                    "cleargate.meta:" + run.resolve("opa-meta.json"));
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(run.resolve("opa.log").toFile()).start();
            OpaServer server = new OpaServer(p, port, policies, run, gateway, admin, revision);
            server.awaitHealthy();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start OPA for tests", e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path policies() {
        return policies;
    }

    public Path runDir() {
        return runDir;
    }

    public String gatewayToken() {
        return gatewayToken;
    }

    public String adminToken() {
        return adminToken;
    }

    /** The revision loaded at start (data.cleargate.meta.revision). */
    public String revision() {
        return revision;
    }

    public boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private void awaitHealthy() {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("OPA exited at start: " + log());
            }
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create(url() + "/health")).timeout(Duration.ofSeconds(1))
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            sleep(100);
        }
        close();
        throw new IllegalStateException("OPA did not become healthy within 30 s: " + log());
    }

    private String log() {
        try {
            return Files.readString(runDir.resolve("opa.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** tools/bin/opa, installed with go install when missing. */
    public static synchronized Path opaBinary() {
        Path bin = repoRoot().resolve("tools/bin/opa");
        if (Files.isExecutable(bin)) {
            return bin;
        }
        try {
            Files.createDirectories(bin.getParent());
            ProcessBuilder pb = new ProcessBuilder("go", "install", "github.com/open-policy-agent/opa@" + OPA_VERSION)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT);
            pb.environment().put("GOBIN", bin.getParent().toString());
            pb.environment().put("GOFLAGS", "-buildvcs=false");
            Process p = pb.start();
            if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0 || !Files.isExecutable(bin)) {
                throw new IllegalStateException("go install of OPA " + OPA_VERSION + " failed; run bin/cleargate"
                        + " (bin/lib/opa.sh opa_install) to install it");
            }
            return bin;
        } catch (IOException e) {
            throw new IllegalStateException("cannot install OPA: Go is needed (go install " + OPA_VERSION + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while installing OPA", e);
        }
    }

    public static Path repoRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("policies"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the repository root (a directory holding policies/)");
        }
        return dir;
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> readTree(Path dir) throws IOException {
        Map<String, String> files = new java.util.TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(p).toString();
                if (rel.endsWith(".rego") || rel.endsWith("/data.json")) {
                    files.put(rel, Files.readString(p));
                }
            }
        }
        return files;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(from)) {
            paths = new ArrayList<>(walk.sorted(Comparator.naturalOrder()).toList());
        }
        for (Path p : paths) {
            Path target = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) {
                Files.createDirectories(target);
            } else {
                Files.copy(p, target);
            }
        }
    }

    private static String randomToken() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
