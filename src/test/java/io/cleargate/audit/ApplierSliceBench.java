package io.cleargate.audit;

import io.cleargate.audit.ChainRows.Linked;
import io.cleargate.audit.ChainRows.Pending;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The journal applier's CPU per row by rows per H2 transaction, and with some of audit_entry's
 * secondary indexes dropped (speed.md section 41): the applier's own {@link JournalApplier#store}
 * and H2's force after each transaction, on a fresh H2 file with the audit schema, one thread.
 *
 * <p>usage: ApplierSliceBench DIR ROWS ROWS_PER_TRANSACTION[:INDEX,INDEX...] ... (indexes to drop)
 */
final class ApplierSliceBench {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static String requestId;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int rows = Integer.parseInt(args[1]);
        run(dir.resolve("warm"), rows, 350, List.of(), false); // the JIT first
        for (int i = 2; i < args.length; i++) {
            String[] spec = args[i].split(":");
            List<String> drop = spec.length > 1 ? List.of(spec[1].split(",")) : List.of();
            run(dir.resolve("run" + i), rows, Integer.parseInt(spec[0]), drop, true);
        }
    }

    private static void run(Path dir, int total, int perTransaction, List<String> drop, boolean print) throws Exception {
        Files.createDirectories(dir);
        String url = "jdbc:h2:file:" + dir.resolve("audit") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=2048";
        var source = new JdbcDataSource();
        source.setURL(url);
        source.setUser("sa");
        try (Connection open = source.getConnection(); Statement s = open.createStatement()) {
            s.execute("RUNSCRIPT FROM 'classpath:/db/migration/V100__audit.sql'");
            s.execute("RUNSCRIPT FROM 'classpath:/db/migration/V113__audit_person.sql'");
            for (String index : drop) {
                s.execute("DROP INDEX " + index);
            }
            var housekeeping = new StoreHousekeeping(source, Optional.of(url), 0);
            var applier = new JournalApplier(source, new StoreHealth(), housekeeping, List.of(), Duration.ofSeconds(60),
                    8L << 20);
            Random random = new Random(41);
            // As many rows again before the measured ones, so the indexes are not empty.
            long storeNanos = 0;
            long forceNanos = 0;
            long seq = 0;
            for (int phase = 0; phase < 2; phase++) {
                storeNanos = 0;
                forceNanos = 0;
                for (int done = 0; done < total; done += perTransaction) {
                    List<Linked> batch = new ArrayList<>();
                    long[] ids = new long[Math.min(perTransaction, total - done)];
                    for (int r = 0; r < ids.length; r++) {
                        ids[r] = ++seq;
                        batch.add(row(seq, random));
                    }
                    long t0 = THREADS.getCurrentThreadCpuTime();
                    applier.store(batch, ids);
                    long t1 = THREADS.getCurrentThreadCpuTime();
                    housekeeping.sync();
                    forceNanos += THREADS.getCurrentThreadCpuTime() - t1;
                    storeNanos += t1 - t0;
                }
            }
            if (print) {
                int transactions = (total + perTransaction - 1) / perTransaction;
                System.out.printf("{\"rows_per_transaction\":%d,\"dropped\":\"%s\",\"rows\":%d,\"store_us_per_row\":%.1f,"
                        + "\"force_us_per_row\":%.1f,\"cpu_us_per_row\":%.1f,\"cpu_us_per_transaction\":%.0f,\"file_bytes_per_row\":%d}%n",
                        perTransaction, String.join(",", drop), total, storeNanos / 1e3 / total, forceNanos / 1e3 / total,
                        (storeNanos + forceNanos) / 1e3 / total, (storeNanos + forceNanos) / 1e3 / transactions,
                        Files.size(dir.resolve("audit.mv.db")) / (2L * total));
            }
        }
    }

    /** A record of about the bench's size: a stored body of ~700 characters. */
    private static Linked row(long seq, Random random) {
        byte[] body = new byte[525];
        random.nextBytes(body);
        // Two records a request, with the gateway's ids (RequestIds: a millisecond timestamp, then random bits).
        if (seq % 2 == 1) {
            requestId = Long.toHexString(System.currentTimeMillis()) + "%016x".formatted(random.nextLong());
        }
        Draft draft = new Draft("dev", seq % 2 == 1 ? "request" : "completion", requestId, Instant.now(),
                "dev", "key:bench", "mock", "eu", "allow", "complete", 200, "[\"pii:none\"]", null, null, "none", null,
                null, "bench", "bench@example.org");
        String stored = "z1:" + java.util.Base64.getEncoder().encodeToString(body);
        return new Linked(new Pending(draft, "%064x".formatted(seq), stored, new CompletableFuture<>()), seq,
                "%064d".formatted(seq - 1), "%064d".formatted(seq));
    }
}
