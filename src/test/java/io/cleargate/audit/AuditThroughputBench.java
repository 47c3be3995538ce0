package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** {@link AuditStoreBench} on a real PostgreSQL (fsync on, synchronous commit). Run by bench/audit/run.sh. */
@QuarkusTest
@TestProfile(PostgresProfile.class)
class AuditThroughputBench extends AuditStoreBench {

    @ConfigProperty(name = "bench.store-directory") String directory;
    @Inject DataSource dataSource;

    @Override
    String store() {
        return "postgresql";
    }

    @Override
    Path storeDirectory() {
        return Path.of(directory);
    }

    /**
     * PostgreSQL's own count of log (WAL) writes and syncs and their time (pg_stat_wal; the bench
     * switches track_wal_io_timing on for its server). Each reading appends one record itself, so
     * the counts between two readings cover one append more than the loop between them.
     */
    @Override
    StoreFlushes storeFlushes() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            if (!timingOn) {
                s.execute("ALTER SYSTEM SET track_wal_io_timing = on");
                s.execute("SELECT pg_reload_conf()");
                timingOn = true;
                // A backend takes the new setting at its next statement: the writer's, with these.
                Thread.sleep(300);
                for (int i = 0; i < 20; i++) {
                    writer.appendDurably(admin("bench-single", 1400));
                }
            }
            // A backend reports its counts when it goes idle, at most once a second: after a second,
            // one more append makes the writer's report everything up to it.
            Thread.sleep(1100);
            writer.appendDurably(admin("bench-single", 1400));
            Thread.sleep(100);
            s.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet r = s.executeQuery("SELECT wal_write, wal_write_time, wal_sync, wal_sync_time FROM pg_stat_wal")) {
                r.next();
                return new StoreFlushes(r.getDouble(1), r.getDouble(2), r.getDouble(3), r.getDouble(4));
            }
        }
    }

    private boolean timingOn;

    /** Tables and their indexes and TOAST; the write-ahead log is recycled, so it is left out. */
    @Override
    long storeBytes() {
        return QuarkusTransaction.requiringNew().call(() -> ((Number) em.createNativeQuery(
                "SELECT pg_total_relation_size('audit_entry') + pg_total_relation_size('audit_chain')"
                        + " + pg_total_relation_size('usage_month') + pg_total_relation_size('audit_key')")
                .getSingleResult()).longValue());
    }
}
