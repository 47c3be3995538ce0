package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Optional;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded store's housekeeping on a real H2 file, written the way the audit writer writes (one commit per batch). */
class StoreHousekeepingTest {

    @TempDir Path dir;

    private record Store(JdbcDataSource source, StoreHousekeeping housekeeping, Path file) {
        long bytes() {
            return file.toFile().length();
        }
    }

    private Store open(String name) {
        var source = new JdbcDataSource();
        String url = "jdbc:h2:file:" + dir.resolve(name) + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
        source.setURL(url);
        source.setUser("sa");
        return new Store(source, new StoreHousekeeping(source, Optional.of(url), 0), dir.resolve(name + ".mv.db"));
    }

    private static void create(Connection c) throws Exception {
        c.createStatement().execute("CREATE TABLE entry (id INT PRIMARY KEY, tag VARCHAR(40), body VARCHAR(10000))");
        c.createStatement().execute("CREATE INDEX entry_tag ON entry (tag)");
        c.createStatement().execute("CREATE TABLE head (id INT PRIMARY KEY, seq INT)");
        c.createStatement().execute("INSERT INTO head VALUES (1, 0)");
    }

    /**
     * Appends {@code count} rows of about a record's size, each in its own commit with the chain
     * head moved, as records at concurrency 1 are.
     */
    private static void append(Connection c, int from, int count) throws Exception {
        c.setAutoCommit(false);
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO entry (id, tag, body) VALUES (?, ?, ?)");
                PreparedStatement head = c.prepareStatement("UPDATE head SET seq = ? WHERE id = 1")) {
            for (int i = from; i < from + count; i++) {
                insert.setInt(1, i);
                insert.setString(2, "request-" + i);
                insert.setString(3, AuditStoreBench.COMPLETION.substring(i % 200));
                insert.executeUpdate();
                head.setInt(1, i);
                head.executeUpdate();
                c.commit();
            }
        }
    }

    @Test
    void spaceCommitsLeftBehindIsReusedByLaterRecords() throws Exception {
        Store plain = open("plain");
        Store kept = open("kept");
        for (Store s : new Store[] {plain, kept}) {
            try (Connection c = s.source().getConnection()) {
                create(c);
                append(c, 0, 2000);
                if (s == kept) {
                    s.housekeeping().compact(5_000);
                }
                append(c, 2000, 2000);
            }
        }
        assertTrue(kept.bytes() * 2 < plain.bytes(), kept.bytes() + " bytes with compaction, " + plain.bytes() + " without");
    }

    @Test
    void stepsUnderLoadKeepTheFileBoundedWhileRecordsKeepComing() throws Exception {
        Store plain = open("plain");
        Store stepped = open("stepped");
        for (Store s : new Store[] {plain, stepped}) {
            try (Connection c = s.source().getConnection()) {
                create(c);
                for (int round = 0; round < 10; round++) {
                    append(c, round * 300, 300);
                    if (s == stepped) {
                        s.housekeeping().sync();
                        s.housekeeping().step();
                    }
                }
            }
        }
        assertTrue(stepped.bytes() * 2 < plain.bytes(), stepped.bytes() + " bytes with steps, " + plain.bytes() + " without");
    }

    @Test
    void recordsAfterAPurgeTakeTheSpaceItFreed() throws Exception {
        Store s = open("purged");
        try (Connection c = s.source().getConnection()) {
            create(c);
            append(c, 0, 2000);
            s.housekeeping().compact(5_000);
            long full = s.bytes();
            c.setAutoCommit(true);
            c.createStatement().execute("UPDATE entry SET body = NULL");
            s.housekeeping().afterPurge();
            append(c, 2000, 2000);
            s.housekeeping().compact(5_000);
            assertTrue(s.bytes() < full * 3 / 2, s.bytes() + " bytes after as many records again, " + full + " before the purge");
        }
    }

    @Test
    void aStoreArmedAtShutdownClosesIntoAFileOfLittleMoreThanItsData() throws Exception {
        Store armed = open("armed");
        Store plain = open("plain");
        for (Store s : new Store[] {armed, plain}) {
            try (Connection c = s.source().getConnection()) {
                create(c);
                append(c, 0, 3000);
                s.housekeeping().sync();
                if (s == armed) {
                    assertTrue(s.housekeeping().compactAtClose());
                }
            } // the last connection: H2 closes the store
        }
        assertTrue(armed.bytes() * 2 < plain.bytes(), armed.bytes() + " bytes compacted at close, " + plain.bytes() + " without");
        var store = new org.h2.mvstore.MVStore.Builder().fileName(armed.file().toString()).readOnly().open();
        try {
            assertTrue(store.getFileStore().getChunksFillRate() >= 90 && store.getFillRate() >= 90,
                    store.getFileStore().getChunksFillRate() + "% of the chunks live, " + store.getFillRate() + "% of the file in chunks");
        } finally {
            store.close();
        }
        try (Connection c = armed.source().getConnection();
                var rows = c.createStatement().executeQuery("SELECT COUNT(*), MAX(seq) FROM entry, head")) {
            rows.next();
            assertTrue(rows.getInt(1) == 3000 && rows.getInt(2) == 2999, "every row kept through the compaction");
        }
    }

    @Test
    void noCompactionAtShutdownWhenItsCopyWouldEatIntoTheDiskReserve() throws Exception {
        String url = "jdbc:h2:file:" + dir.resolve("tight") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
        var source = new JdbcDataSource();
        source.setURL(url);
        source.setUser("sa");
        var housekeeping = new StoreHousekeeping(source, Optional.of(url), Long.MAX_VALUE / 2);
        try (Connection c = source.getConnection()) {
            create(c);
            append(c, 0, 100);
            assertTrue(!housekeeping.compactAtClose());
        }
    }

    @Test
    void otherDatabasesNeedNeitherSyncNorCompaction() {
        var housekeeping = new StoreHousekeeping(new JdbcDataSource(), Optional.of("jdbc:h2:mem:x"), 0);
        housekeeping.sync();
        housekeeping.step();
        housekeeping.compact(10);
        assertTrue(!housekeeping.compactAtClose());
        assertTrue(!housekeeping.embeddedFile());
    }
}
