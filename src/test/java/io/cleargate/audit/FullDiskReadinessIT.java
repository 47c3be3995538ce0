package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Finding 12 of issue 12: the packaged gateway's data directory on a small file system of its
 * own (tmpfs, 48 MB), filled under load. Readiness must go DOWN while the audit store cannot
 * write and stay DOWN while traffic pauses (it probes by writing, it does not remember the last
 * request), nothing is served unaudited meanwhile, and it must come UP again without a restart
 * once space is freed.
 *
 * <p>No root and no mount on the host: the gateway runs in a mount namespace of its own
 * ({@code unshare}, util-linux), unprivileged through a user namespace (Debian's default) or, for
 * root where user namespaces are off, a plain mount namespace. The tmpfs exists only in that
 * namespace and disappears with the gateway, so nothing is left mounted even if the test dies;
 * the test fills it through {@code /proc/PID/root}, the gateway's own view of the file system.
 */
class FullDiskReadinessIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void readinessFollowsWhetherTheAuditStoreCanWriteNotTheLastRequest() throws Exception {
        Path mount = Scratch.dir("cleargate-small-disk");
        try (var opa = OpaServer.start(Map.of());
                var upstream = new MockUpstream("mock", 0, 2, 1);
                var gateway = PackagedGateway.start(PackagedGateway.H2_JAR, mount.resolve("data"), opa, upstream,
                        Map.of(), Map.of("cleargate.audit.probe-every", "1s", "cleargate.audit.min-free-space", RESERVE),
                        smallDisk(mount))) {
            Path disk = Path.of("/proc", String.valueOf(gateway.pid()), "root").resolve(mount.toString().substring(1));
            Path filler = disk.resolve("filler");
            AtomicBoolean loading = new AtomicBoolean(true);
            Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
            String prompt = "load ".repeat(400);
            try (var pool = Executors.newFixedThreadPool(6)) {
                try {
                    for (int w = 0; w < 6; w++) {
                        int worker = w;
                        pool.submit(() -> {
                            for (int i = 0; loading.get() && i < 5000; i++) {
                                HttpResponse<String> r = gateway.chat("{\"model\":\"mock\",\"max_tokens\":8,\"messages\":"
                                        + "[{\"role\":\"user\",\"content\":\"" + prompt + worker + "-" + i + "\"}]}");
                                statuses.merge(r.statusCode(), 1, Integer::sum);
                            }
                            return null;
                        });
                    }
                    Thread.sleep(2000);
                    assertEquals(200, gateway.readiness(), "ready under load before the disk fills");
                    // Something else takes the disk but a few MB; the audit trail's own growth under
                    // load then uses up the rest, as in the measured incident.
                    fillLeaving(disk, filler, 6L << 20);
                    assertTrue(await(gateway, 503, 90), "readiness DOWN once the store cannot write:\n" + gateway.tail());
                    HttpResponse<String> refused = gateway.chat("{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
                    assertEquals(503, refused.statusCode(), refused.body());
                    assertEquals("audit_unavailable", JSON.readTree(refused.body()).path("error").path("code").asText());
                } finally {
                    loading.set(false);
                }
            }
            // Traffic has paused: readiness must stay DOWN, because the store still cannot write.
            for (int i = 0; i < 8; i++) {
                Thread.sleep(1000);
                assertEquals(503, gateway.readiness(), "readiness came UP while the disk is still full (second " + i + ")");
            }
            Files.delete(filler);
            assertTrue(await(gateway, 200, 60), "readiness UP again once space is free, without a restart:\n" + gateway.tail());
            HttpResponse<String> served = gateway.chat("{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}");
            assertEquals(200, served.statusCode(), served.body());
            var verified = JSON.readTree(gateway.get("/audit/verify").body());
            assertTrue(verified.path("ok").asBoolean(), verified.toString());
            assertTrue(statuses.getOrDefault(200, 0) > 0, statuses.toString());
            assertTrue(statuses.getOrDefault(503, 0) > 0, statuses.toString());
            assertEquals(Set.of(200, 503), statuses.keySet(), "every answer under load was served or refused: " + statuses);
            System.out.printf("full disk: responses under load %s%n", statuses);
        } finally {
            // The tmpfs went with the gateway's namespace; only the empty mount point is ours.
            Files.deleteIfExists(mount.resolve("data"));
            Files.deleteIfExists(mount);
        }
    }

    /** The reserve the gateway keeps free for H2 on this 48 MB disk. */
    private static final String RESERVE = "4M";

    /** Writes {@code filler} until {@code leave} bytes are free on the file system of {@code disk}. */
    private static void fillLeaving(Path disk, Path filler, long leave) throws Exception {
        long fill = available(disk) - leave;
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (long written = 0; written < fill; written += block.length) {
                out.write(block, 0, (int) Math.min(block.length, fill - written));
            }
        }
    }

    /** Free bytes of the file system holding {@code path} (statfs, seen through the gateway's namespace). */
    private static long available(Path path) throws Exception {
        Process p = new ProcessBuilder("stat", "--file-system", "--format=%a %S", path.toString()).redirectErrorStream(true).start();
        String[] out = new String(p.getInputStream().readAllBytes()).trim().split(" ");
        assertEquals(0, p.waitFor(), String.join(" ", out));
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }

    /**
     * The command that starts the gateway with a 48 MB tmpfs over {@code mount} (and an empty
     * data directory in it), in a mount namespace of its own.
     */
    private static List<String> smallDisk(Path mount) throws Exception {
        List<String> mountAndExec = List.of("sh", "-c",
                "mount -t tmpfs -o size=48m,mode=0755 tmpfs \"$0\" && mkdir -p \"$0/data\" && exec \"$@\"",
                mount.toString());
        for (List<String> namespace : List.of(List.of("unshare", "--user", "--map-root-user", "--mount"),
                List.of("unshare", "--mount"))) {
            List<String> probe = new ArrayList<>(namespace);
            probe.addAll(List.of("sh", "-c", "mount -t tmpfs -o size=1m tmpfs \"$0\"", mount.toString()));
            if (succeeds(probe)) {
                List<String> wrapper = new ArrayList<>(namespace);
                wrapper.addAll(mountAndExec);
                return wrapper;
            }
        }
        throw new AssertionError("cannot give the gateway a small disk: 'unshare --user --map-root-user --mount' needs"
                + " unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0),"
                + " 'unshare --mount' needs root");
    }

    private static boolean await(PackagedGateway gateway, int status, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (gateway.readiness() == status) {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    private static boolean succeeds(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }
}
