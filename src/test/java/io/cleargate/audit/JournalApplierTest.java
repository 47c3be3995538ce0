package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.audit.ChainRows.Linked;
import io.cleargate.audit.ChainRows.Pending;
import io.cleargate.testsupport.Scratch;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

/**
 * The journal's applier on a real H2 file with the audit schema: when journaled records go into H2
 * while nobody waits for them (in rounds, rarely at low load, so H2's file is forced rarely), and
 * that whoever reads still finds every acknowledged record at once.
 */
class JournalApplierTest {

    private static final long JOURNAL_FILE = 8L << 20;

    @Test
    void aQuarterSecondOfLowLoadIsNotARoundAnyMore() {
        // About a quarter second of records at c=1 (some 650 requests a second, two records each).
        assertFalse(JournalApplier.roundDue(330, 330 * 1_200L, 250_000_000L, JOURNAL_FILE / 2));
        assertFalse(JournalApplier.roundDue(2_000, 2_000 * 1_200L, 1_900_000_000L, JOURNAL_FILE / 2));
    }

    @Test
    void enoughRowsHalfAJournalFileOrTwoSecondsMakeARound() {
        assertTrue(JournalApplier.roundDue(JournalApplier.APPLY_ROWS, 0, 0, JOURNAL_FILE / 2));
        assertTrue(JournalApplier.roundDue(10, JOURNAL_FILE / 2, 0, JOURNAL_FILE / 2));
        assertTrue(JournalApplier.roundDue(1, 100, JournalApplier.APPLY_DELAY_NANOS, JOURNAL_FILE / 2));
    }

    @Test
    void recordsNobodyWaitsForStayInTheJournalForLongerThanAQuarterSecondAndAReaderStillFindsThemAtOnce()
            throws Exception {
        try (var store = Store.open(JOURNAL_FILE)) {
            store.handOver(1, 300);
            Thread.sleep(700); // main applied every 250 ms; now a round waits for 2 s, 2,048 rows or half a journal file
            assertEquals(0, store.stored(), "no round yet: the rows wait in the journal");
            store.applier.awaitStored();
            assertEquals(300, store.stored(), "a reader has them inserted at once");
        }
    }

    @Test
    void halfAJournalFileWaitingMakesARoundWithoutAnyoneAsking() throws Exception {
        // A small journal: 100 rows of about 1 KB are more than half of a 128 KB file.
        try (var store = Store.open(128 << 10)) {
            store.handOver(1, 100);
            long deadline = System.nanoTime() + 1_500_000_000L; // well inside the 2 s a round would otherwise wait
            while (store.stored() < 100 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(100, store.stored(), "the rows went in before the writer could run out of journal");
        }
    }

    /**
     * A fresh H2 file with the audit schema and a started applier; {@code held} keeps the database
     * open (H2 closes it with its last connection).
     */
    private record Store(JdbcDataSource source, Connection held, JournalApplier applier) implements AutoCloseable {

        static Store open(long journalFile) throws Exception {
            Path dir = Scratch.dir("journal-applier");
            String url = "jdbc:h2:file:" + dir.resolve("audit") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
            var source = new JdbcDataSource();
            source.setURL(url);
            source.setUser("sa");
            Connection held = source.getConnection();
            try (Statement s = held.createStatement()) {
                s.execute("RUNSCRIPT FROM 'classpath:/db/migration/V100__audit.sql'");
                s.execute("RUNSCRIPT FROM 'classpath:/db/migration/V113__audit_person.sql'");
            }
            var housekeeping = new StoreHousekeeping(source, Optional.of(url), 0);
            var applier = new JournalApplier(source, new StoreHealth(), housekeeping, List.of(), Duration.ofSeconds(30),
                    journalFile);
            applier.start();
            return new Store(source, held, applier);
        }

        /** Hands over rows {@code from}.. of chain "dev" as frames of two rows (a request's two records). */
        void handOver(long from, int count) {
            long lsn = from;
            for (long seq = from; seq < from + count; seq += 2) {
                List<Linked> rows = new ArrayList<>();
                long[] ids = new long[(int) Math.min(2, from + count - seq)];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = seq + i;
                    rows.add(row(seq + i));
                }
                applier.handOver(new JournalApplier.Journaled(lsn++, rows, ids, Journal.HEADER + 1_100 * ids.length));
            }
        }

        int stored() throws Exception {
            try (Connection c = source.getConnection(); Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT COUNT(*) FROM audit_entry")) {
                r.next();
                return r.getInt(1);
            }
        }

        @Override
        public void close() throws Exception {
            try {
                assertTrue(applier.stop(), "every record handed over is in H2 and forced");
            } finally {
                held.close();
            }
        }

        private static Linked row(long seq) {
            Draft draft = new Draft("dev", seq % 2 == 1 ? "request" : "completion", "req-" + (seq + 1) / 2,
                    Instant.now(), "dev", "key:test", "mock", "eu", "allow", "complete", 200, "[\"pii:none\"]", null,
                    null, "none", null, null, "tester", "tester@example.org");
            String stored = "z1:" + "A".repeat(700);
            return new Linked(new Pending(draft, "%064x".formatted(seq), stored, new CompletableFuture<>()), seq,
                    "%064d".formatted(seq - 1), "%064d".formatted(seq));
        }
    }
}
