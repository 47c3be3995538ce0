package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.audit.ChainRows.Linked;
import io.cleargate.audit.ChainRows.Pending;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's applier on a real H2 file with the audit schema: how a round of rows becomes transactions. */
class JournalApplierTest {

    private static final int FRAMES = 600;

    @TempDir Path dir;

    private final JdbcDataSource plain = new JdbcDataSource();
    /** The connections the applier took: one per transaction. */
    private final AtomicInteger transactions = new AtomicInteger();
    private final DataSource counted = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                if (method.getName().equals("getConnection")) {
                    transactions.incrementAndGet();
                }
                try {
                    return method.invoke(plain, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    private Connection open; // keeps the database open between the applier's transactions
    private JournalApplier applier;

    @BeforeEach
    void createTheStore() throws SQLException {
        String url = "jdbc:h2:file:" + dir.resolve("audit") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
        plain.setURL(url);
        plain.setUser("sa");
        open = plain.getConnection();
        try (Statement s = open.createStatement()) {
            s.execute("RUNSCRIPT FROM 'classpath:/db/migration/V100__audit.sql'");
            s.execute("RUNSCRIPT FROM 'classpath:/db/migration/V113__audit_person.sql'");
        }
        applier = new JournalApplier(counted, new StoreHealth(), new StoreHousekeeping(plain, Optional.of(url), 0),
                List.of(), Duration.ofSeconds(60));
        for (int i = 1; i <= FRAMES; i++) { // one record a frame, as the writer journals them at c=1
            applier.handOver(new JournalApplier.Journaled(i, List.of(row(i)), new long[] {i}));
        }
    }

    @AfterEach
    void closeTheStore() throws Exception {
        assertTrue(applier.stop(), "every record inserted and forced at stop");
        open.close();
    }

    private static Linked row(long seq) {
        Draft draft = new Draft("dev", "request", "request-" + seq, Instant.now(), "dev", "key:bench", "mock", "eu",
                "allow", "complete", 200, "[]", null, null, "none", null, null);
        return new Linked(new Pending(draft, hash(seq), null, new CompletableFuture<>()), seq, hash(seq - 1), hash(seq));
    }

    private static String hash(long seq) {
        return "%064d".formatted(seq);
    }

    private long[] countAndHead() throws SQLException {
        try (Statement s = open.createStatement();
                ResultSet rows = s.executeQuery("SELECT (SELECT COUNT(*) FROM audit_entry),"
                        + " (SELECT MAX(head_seq) FROM audit_chain)")) {
            rows.next();
            return new long[] {rows.getLong(1), rows.getLong(2)};
        }
    }

    @Test
    void aRoundNobodyWaitsForIsInsertedInSeveralTransactionsInJournalOrder() throws Exception {
        applier.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (countAndHead()[0] < FRAMES && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(FRAMES, countAndHead()[0], "rows inserted");
        assertEquals(FRAMES, countAndHead()[1], "the chain's head moved to the last row, slice after slice");
        assertTrue(transactions.get() > 1, transactions.get() + " transactions for " + FRAMES + " rows");
    }

    @Test
    void aRoundAReaderWaitsForIsInsertedInOneTransaction() throws Exception {
        applier.start();
        applier.awaitStored(); // long before the round would be due by itself (250 ms)
        assertEquals(FRAMES, countAndHead()[0], "rows inserted");
        assertEquals(FRAMES, countAndHead()[1], "the chain's head");
        assertEquals(1, transactions.get(), "transactions");
    }
}
