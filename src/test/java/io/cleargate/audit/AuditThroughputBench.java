package io.cleargate.audit;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not part of the suite (run by bench/audit/run.sh): durable records per second on
 * PostgreSQL under concurrent load, and the latency the audit stage adds to one request
 * (request record + final record, both committed) at concurrency 1.
 */
@QuarkusTest
@TestProfile(PostgresProfile.class)
class AuditThroughputBench {

    @Inject AuditStage audit;
    @Inject AuditWriter writer;
    @Inject jakarta.persistence.EntityManager em;

    @Test
    void measure() throws Exception {
        int total = Integer.getInteger("bench.requests", 4000);
        int concurrency = Integer.getInteger("bench.concurrency", 64);
        String tenant = "bench";
        for (int i = 0; i < 50; i++) {
            Traffic.run(audit, Traffic.Scenario.of(tenant, Recorder.ENCRYPTED));
        }
        // Added latency at concurrency 1: the whole pipeline with and without the audit stage.
        long[] with = new long[300];
        long[] without = new long[300];
        for (int i = 0; i < with.length; i++) {
            long t0 = System.nanoTime();
            Traffic.run(audit, Traffic.Scenario.of(tenant, Recorder.ENCRYPTED));
            with[i] = System.nanoTime() - t0;
            t0 = System.nanoTime();
            Traffic.runWithoutAudit(Traffic.Scenario.of(tenant, Recorder.ENCRYPTED));
            without[i] = System.nanoTime() - t0;
        }
        // Context: one bare durable commit (a single-row insert) on the same server.
        long[] commit = new long[300];
        for (int i = 0; i < commit.length; i++) {
            String probe = "bench-probe-" + i;
            long t0 = System.nanoTime();
            io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().run(() -> em.createNativeQuery(
                    "INSERT INTO audit_legal_hold (tenant, reason, set_by, set_at) VALUES (?, 'bench', 'bench', CURRENT_TIMESTAMP)")
                    .setParameter(1, probe).executeUpdate());
            commit[i] = System.nanoTime() - t0;
        }
        // One record appended and made durable at concurrency 1 (the writer's own cost).
        long[] single = new long[300];
        String one = Canonical.json(java.util.Map.of("kind", "admin", "padding", "x".repeat(900)));
        for (int i = 0; i < single.length; i++) {
            long t0 = System.nanoTime();
            writer.appendDurably(new AuditWriter.Draft("bench-single", "admin", null, java.time.Instant.now(),
                    "bench-single", "s", null, null, "none", "complete", null, "|", one, null, Recorder.NONE, null, null));
            single[i] = System.nanoTime() - t0;
        }
        // Throughput: each request makes two durable records.
        long start = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(concurrency, Thread.ofVirtual().factory())) {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                futures.add(pool.submit(() -> Traffic.run(audit, Traffic.Scenario.of(tenant, Recorder.ENCRYPTED))));
            }
            for (var f : futures) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // The store alone: records of a request's size appended by 256 concurrent callers, each
        // waiting for durability, without the rest of the pipeline competing for the CPU.
        int raw = Integer.getInteger("bench.raw", 20000);
        String body = Canonical.json(java.util.Map.of("kind", "admin", "padding", "x".repeat(900)));
        long rawStart = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(256, Thread.ofVirtual().factory())) {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < raw; i++) {
                futures.add(pool.submit(() -> writer.appendDurably(new AuditWriter.Draft("bench-raw", "admin", null,
                        java.time.Instant.now(), "bench-raw", "s", null, null, "none", "complete", null, "|", body, null,
                        Recorder.NONE, null, null))));
            }
            for (var f : futures) {
                f.get();
            }
        }
        double rawSeconds = (System.nanoTime() - rawStart) / 1e9;
        String report = String.format(
                "audit bench (PostgreSQL, fsync on, encrypted content)%n"
                        + "  throughput: %d requests (%d durable records) at concurrency %d in %.2f s = %.0f records/s%n"
                        + "  store alone: %d records by 256 concurrent callers in %.2f s = %.0f durable records/s%n"
                        + "  added latency at concurrency 1 (2 durable commits/request): p50 %.3f ms, p99 %.3f ms%n"
                        + "  one durable append at concurrency 1: p50 %.3f ms, p99 %.3f ms%n"
                        + "  for context, one bare single-row durable commit: p50 %.3f ms, p99 %.3f ms; load average %.1f%n",
                total, 2 * total, concurrency, seconds, 2 * total / seconds, raw, rawSeconds, raw / rawSeconds,
                (pct(with, 50) - pct(without, 50)) / 1e6, (pct(with, 99) - pct(without, 99)) / 1e6,
                pct(single, 50) / 1e6, pct(single, 99) / 1e6, pct(commit, 50) / 1e6, pct(commit, 99) / 1e6,
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.print(report);
        Path out = Path.of(System.getProperty("bench.out", "target/audit-bench.txt"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    private static double pct(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
    }
}
