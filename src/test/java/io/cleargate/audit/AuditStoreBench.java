package io.cleargate.audit;

import jakarta.inject.Inject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Benchmark of the audit store, not part of the suite (bench/audit/run.sh runs it on each store):
 * what a durable commit costs at concurrency 1 next to the disk's own fdatasync, durable records
 * per second under concurrent requests and for the store alone, and the bytes the store grows by
 * per request (a 60-character prompt and a 1.4 KB completion of ordinary prose, encrypted content,
 * a request and a final record each). Subclasses pick the store.
 */
abstract class AuditStoreBench {

    /** 60 characters. */
    static final String PROMPT = "Summarise the attached quarterly report in three sentences..";
    /** 1.4 KB of prose that does not repeat itself (the bench's mock repeats one sentence, which deflates far better). */
    static final String COMPLETION = """
            Revenue for the quarter rose to 48.2 million, up eleven percent on the same period last year, \
            driven mainly by the renewal of three large public-sector contracts in Northern Europe and a \
            steady increase in self-service subscriptions. Operating costs grew faster than planned because \
            the company opened a second support centre in Lisbon and moved two data centres to a new \
            provider; management expects both changes to pay for themselves within eighteen months. Gross \
            margin slipped by one point to 61 percent, reflecting higher cloud prices and a one-off charge \
            for migrating legacy customers. Cash from operations was positive for the fourth quarter in a \
            row, and the board kept its guidance for the full year unchanged. Risks named in the report \
            include currency movements between the euro and the dollar, the pending review of data-transfer \
            rules, and the concentration of revenue in ten customers who together account for almost a \
            third of sales. The outlook section argues that demand for on-premises deployments is returning \
            among regulated buyers, and that the new partner programme should shorten sales cycles in \
            Germany and France. Hiring will slow in the second half, with the exception of security \
            engineering, where the company plans to add twelve people before the end of the year. Analysts \
            asked about pricing; the answer was that list prices rise by four percent in January, with \
            existing customers protected until their next renewal.""";

    @Inject AuditStage audit;
    @Inject AuditWriter writer;
    @Inject jakarta.persistence.EntityManager em;

    abstract String store();

    /** A directory on the store's file system, for the fdatasync probe. */
    abstract Path storeDirectory();

    /** What the store occupies now, in bytes. */
    abstract long storeBytes();

    /**
     * The store's own count of log writes and flushes so far, for {@link StoreFlushes#between};
     * null when the store keeps none (the embedded H2 file: its journal's force is the bench's own).
     */
    StoreFlushes storeFlushes() throws Exception {
        return null;
    }

    /** A store's log writes and flushes, and the milliseconds it spent in each, as counted so far. */
    record StoreFlushes(double writes, double writeMillis, double syncs, double syncMillis) {

        /** What the store's log flushes cost over {@code appends} lone appends, as a report line; empty without counts. */
        static String between(StoreFlushes before, StoreFlushes after, int appends) {
            if (before == null || after == null) {
                return "";
            }
            double writes = after.writes - before.writes;
            double syncs = after.syncs - before.syncs;
            return String.format("  the store's own log flushes over the lone appends: %.2f writes and %.2f syncs per append,"
                    + " mean write %.3f ms, mean sync %.3f ms%n", writes / appends, syncs / appends,
                    (after.writeMillis - before.writeMillis) / writes, (after.syncMillis - before.syncMillis) / syncs);
        }
    }

    static Traffic.Scenario scenario(String tenant) {
        List<String> deltas = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            deltas.add(COMPLETION.substring(i * COMPLETION.length() / 64, (i + 1) * COMPLETION.length() / 64));
        }
        return new Traffic.Scenario(tenant, "alice", Recorder.ENCRYPTED, true, List.of(), PROMPT, PROMPT, deltas, false);
    }

    @Test
    void measure() throws Exception {
        int total = Integer.getInteger("bench.requests", 4000);
        int concurrency = Integer.getInteger("bench.concurrency", 64);
        String tenant = "bench";
        for (int i = 0; i < 300; i++) {
            Traffic.run(audit, scenario(tenant));
        }
        // The disk's flush as a commit pays it, measured beside the lone appends (see LogPage), and
        // the figure sections 11-16 of speed.md used (4 KB, the force alone, in a tight loop).
        double[] forceOnly = fdatasync(storeDirectory(), 300);
        // At concurrency 1: one final-sized record appended and durable (the writer's whole path),
        // each after one flush of a log page, so both see the machine in the same state.
        long[] single = new long[500];
        long[] flush = new long[single.length];
        StoreFlushes flushes0 = storeFlushes();
        try (LogPage page = LogPage.in(storeDirectory())) {
            for (int i = 0; i < single.length; i++) {
                flush[i] = page.writeAndForce();
                long t0 = System.nanoTime();
                writer.appendDurably(admin("bench-single", 1400));
                single[i] = System.nanoTime() - t0;
            }
        }
        String storeFlushes = StoreFlushes.between(flushes0, storeFlushes(), single.length + 1);
        double[] fdatasync = {pct(flush, 50) / 1e6, pct(flush, 99) / 1e6};
        // What the audit stage adds to a request at concurrency 1 (request record + final record, both durable).
        long[] with = new long[300];
        long[] without = new long[300];
        for (int i = 0; i < with.length; i++) {
            long t0 = System.nanoTime();
            Traffic.run(audit, scenario(tenant));
            with[i] = System.nanoTime() - t0;
            t0 = System.nanoTime();
            Traffic.runWithoutAudit(scenario(tenant));
            without[i] = System.nanoTime() - t0;
        }
        // Requests at concurrency C; the store's growth over them is the bytes per request.
        long bytes0 = storeBytes();
        long start = System.nanoTime();
        runConcurrently(total, concurrency, () -> Traffic.run(audit, scenario(tenant)));
        double seconds = (System.nanoTime() - start) / 1e9;
        long bytes1 = storeBytes();
        Thread.sleep(3_000); // idle: the writer compacts what the burst left behind (H2)
        long bytes2 = storeBytes();
        // The store alone: final-sized records from many concurrent callers, each waiting until durable.
        int raw = Integer.getInteger("bench.raw", 40000);
        int callers = Integer.getInteger("bench.callers", 512);
        // Twice: in the first round the JIT still compiles the path of large batches (a third of the
        // JVM's CPU went to its compiler threads); the second round is the one measured.
        long coldStart = System.nanoTime();
        runConcurrently(raw, callers, () -> writer.appendDurably(admin("bench-raw", 1400)));
        double coldSeconds = (System.nanoTime() - coldStart) / 1e9;
        Map<String, Long> threads0 = threadTicks();
        double gatewayCpu0 = processCpuSeconds();
        double serverCpu0 = serverCpuSeconds(storeDirectory());
        long rawStart = System.nanoTime();
        runConcurrently(raw, callers, () -> writer.appendDurably(admin("bench-raw", 1400)));
        double rawSeconds = (System.nanoTime() - rawStart) / 1e9;
        double gatewayCpu = processCpuSeconds() - gatewayCpu0;
        double serverCpu = serverCpuSeconds(storeDirectory()) - serverCpu0;
        String byThread = byThread(threads0, threadTicks(), raw);
        String report = String.format(
                "audit store bench: %s (durable: fsync at commit), encrypted content, 60-char prompt, 1.4 KB completion%n"
                        + "  disk: write of an 8 KB log page + fdatasync, preallocated file in the store's directory,"
                        + " one before each lone append: p50 %.3f ms, p99 %.3f ms%n"
                        + "  disk: fdatasync alone after a 4 KB write, tight loop (sections 11-16's figure): p50 %.3f ms, p99 %.3f ms%n"
                        + "%s"
                        + "  one durable append at concurrency 1: p50 %.3f ms (%.2f x the log-page flush p50; %.2f x the tight loop's), p99 %.3f ms%n"
                        + "  added by the audit stage at concurrency 1 (2 durable records/request): p50 %.3f ms, p99 %.3f ms%n"
                        + "  %d requests at concurrency %d: %.2f s = %.0f requests/s = %.0f durable records/s%n"
                        + "  store growth: %.0f bytes/request (%.0f per record) right after, %.0f bytes/request once idle%n"
                        + "  store alone, first round (the JIT still compiling): %.0f durable records/s%n"
                        + "  store alone: %d records from %d concurrent callers in %.2f s = %.0f durable records/s%n"
                        + "  store alone, CPU per record: this JVM %.1f us, the database server's processes %.1f us%n"
                        + "  store alone, this JVM's CPU per record by thread: %s%n"
                        + "  load average %.1f%n",
                store(), fdatasync[0], fdatasync[1], forceOnly[0], forceOnly[1], storeFlushes,
                pct(single, 50) / 1e6, pct(single, 50) / 1e6 / fdatasync[0], pct(single, 50) / 1e6 / forceOnly[0],
                pct(single, 99) / 1e6, (pct(with, 50) - pct(without, 50)) / 1e6, (pct(with, 99) - pct(without, 99)) / 1e6,
                total, concurrency, seconds, total / seconds, 2 * total / seconds,
                (double) (bytes1 - bytes0) / total, (double) (bytes1 - bytes0) / total / 2, (double) (bytes2 - bytes0) / total,
                raw / coldSeconds, raw, callers, rawSeconds, raw / rawSeconds, gatewayCpu / raw * 1e6, serverCpu / raw * 1e6, byThread,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.print(report);
        Path out = Path.of(System.getProperty("bench.out.dir", "target"), "audit-bench-" + store() + ".txt");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    /** A record of about a final record's size that charges nothing. */
    static Draft admin(String chain, int padding) {
        String body = Canonical.json(Map.of("kind", "admin", "padding", COMPLETION.substring(0, Math.min(padding, COMPLETION.length()))));
        return new Draft(chain, "admin", null, Instant.now(), chain, "s", null, null, "none", "complete", null,
                "|", body, null, Recorder.NONE, null, null);
    }

    private static void runConcurrently(int total, int concurrency, Runnable task) throws Exception {
        try (var pool = Executors.newFixedThreadPool(concurrency, Thread.ofVirtual().factory())) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                futures.add(pool.submit(task));
            }
            for (var f : futures) {
                f.get();
            }
        }
    }

    /** CPU seconds this JVM has used so far (every thread: callers, writer, the bench itself). */
    static double processCpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    /** Clock ticks (10 ms) each of this JVM's threads has used so far, by thread id and name, from /proc. */
    static Map<String, Long> threadTicks() throws IOException {
        Map<String, Long> ticks = new java.util.HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks.put(task.getFileName() + " " + name, Long.parseLong(f[11]) + Long.parseLong(f[12]));
                } catch (IOException | RuntimeException gone) {
                    // the thread ended while being read
                }
            }
        }
        return ticks;
    }

    /** Microseconds per record by group of threads (virtual-thread carriers, the writer, GC, JIT, ...), largest first. */
    static String byThread(Map<String, Long> before, Map<String, Long> after, int records) {
        Map<String, Long> groups = new java.util.TreeMap<>();
        after.forEach((thread, ticks) -> {
            String name = thread.substring(thread.indexOf(' ') + 1);
            String group = name.startsWith("ForkJoinPool") ? "virtual-thread carriers"
                    : name.startsWith("GC Thread") || name.startsWith("G1 ") ? "GC"
                    : name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") ? "JIT"
                    : name.replaceAll("[-#]?[0-9]+$", "");
            groups.merge(group, ticks - before.getOrDefault(thread, 0L), Long::sum);
        });
        return groups.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> String.format("%s %.1f", e.getKey(), e.getValue() * 10_000.0 / records))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /**
     * CPU seconds used so far by the database server whose data lies under {@code dir}: its
     * postmaster (with the children it has reaped), and its live backends; 0 when there is none
     * (an embedded store). Read from /proc, in clock ticks of 10 ms.
     */
    static double serverCpuSeconds(Path dir) throws IOException {
        long postmaster = -1;
        List<long[]> processes = new ArrayList<>(); // pid, ppid, ticks
        try (var entries = Files.list(Path.of("/proc"))) {
            for (Path proc : entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try {
                    String stat = Files.readString(proc.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long pid = Long.parseLong(proc.getFileName().toString());
                    // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
                    long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    long reaped = Long.parseLong(f[13]) + Long.parseLong(f[14]);
                    String cmdline = Files.readString(proc.resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.contains(dir.toString()) && cmdline.contains("postgres")) {
                        postmaster = pid;
                        processes.add(new long[] {pid, Long.parseLong(f[1]), own + reaped});
                    } else {
                        processes.add(new long[] {pid, Long.parseLong(f[1]), own});
                    }
                } catch (IOException | RuntimeException gone) {
                    // the process ended while being read
                }
            }
        }
        long ticks = 0;
        for (long[] p : processes) {
            if (p[0] == postmaster || p[1] == postmaster) {
                ticks += p[2];
            }
        }
        return postmaster < 0 ? 0 : ticks / 100.0;
    }

    /**
     * The disk's flush as a durable commit pays it: PostgreSQL's commit writes the log page that
     * holds the commit record (8 KB) into a log segment written full of zeros when created, then
     * forces it with fdatasync (its default wal_sync_method on Linux); H2's journal appends a frame
     * to a preallocated file and forces it the same way. So: a 16 MB file of zeros in the store's
     * directory, forced once, then 8 KB written at advancing offsets and forced with
     * {@code FileChannel.force(false)} (fdatasync), the write and the force timed together.
     */
    static final class LogPage implements AutoCloseable {
        private static final int SEGMENT = 16 << 20;
        private static final int PAGE = 8192;
        private final Path file;
        private final FileChannel channel;
        private final ByteBuffer page = ByteBuffer.allocateDirect(PAGE);
        private long offset;

        private LogPage(Path file) throws IOException {
            this.file = file;
            this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long at = 0; at < SEGMENT; at += zeros.capacity()) {
                zeros.clear();
                while (zeros.hasRemaining()) {
                    channel.write(zeros, at + zeros.position());
                }
            }
            channel.force(true);
        }

        static LogPage in(Path dir) throws IOException {
            return new LogPage(Files.createTempFile(dir, "log-page-probe", ".bin"));
        }

        /** Nanoseconds to write the next page and force it. */
        long writeAndForce() throws IOException {
            page.clear();
            page.putLong(0, offset);
            long t0 = System.nanoTime();
            while (page.hasRemaining()) {
                channel.write(page, offset + page.position());
            }
            channel.force(false);
            long took = System.nanoTime() - t0;
            offset = (offset + PAGE) % SEGMENT;
            return took;
        }

        @Override
        public void close() throws IOException {
            channel.close();
            Files.deleteIfExists(file);
        }
    }

    /** p50 and p99 in ms of writing 4 KB and forcing the data (FileChannel.force(false): fdatasync on Linux). */
    static double[] fdatasync(Path dir, int rounds) throws IOException {
        Path probe = Files.createTempFile(dir, "fdatasync-probe", ".bin");
        long[] t = new long[rounds];
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.allocate(4096);
            for (int i = 0; i < rounds; i++) {
                block.clear();
                ch.write(block, (long) (i % 64) * 4096);
                long t0 = System.nanoTime();
                ch.force(false);
                t[i] = System.nanoTime() - t0;
            }
        } finally {
            Files.deleteIfExists(probe);
        }
        return new double[] {pct(t, 50) / 1e6, pct(t, 99) / 1e6};
    }

    static double pct(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
    }
}
