package io.cleargate.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * What both commit paths ({@link DirectCommit}, {@link JournaledCommit}) write and how: an entry
 * linked into its chain, and the plain-JDBC statements that move a chain's head and insert the
 * linked rows with what they charge. The paths differ in when the rows reach the database, never
 * in what a row holds.
 */
final class ChainRows {

    private ChainRows() {}

    /**
     * A draft waiting for the writer, with its body hashed and encoded for storage by the caller
     * (off the single writer thread).
     */
    record Pending(Draft draft, String bodySha256, String storedBody,
            CompletableFuture<Appended> done) {}

    /** A chain's last entry: its seq and entry hash. */
    record Head(long seq, String hash) {}

    /** A pending entry with its place in its chain. */
    record Linked(Pending pending, long seq, String prevHash, String entryHash) {

        String chain() {
            return pending.draft().chain();
        }

        Appended appended(long id) {
            return new Appended(id, chain(), seq, entryHash);
        }
    }

    /** A failed statement or commit, as the writer's callers see it (describe() shows the SQL state). */
    static final class StoreException extends RuntimeException {
        StoreException(SQLException cause) {
            super("audit store statement failed", cause);
        }
    }

    /** Assigns sequence numbers and hashes after {@code head}, in the order the drafts arrived. */
    static List<Linked> link(String chain, List<Pending> pending, Head head) {
        List<Linked> linked = new ArrayList<>(pending.size());
        long seq = head.seq();
        String prev = head.hash();
        for (Pending p : pending) {
            seq++;
            String hash = Canonical.entryHash(chain, seq, prev, p.bodySha256());
            linked.add(new Linked(p, seq, prev, hash));
            prev = hash;
        }
        return linked;
    }

    static Head headOf(List<Linked> linked) {
        Linked last = linked.getLast();
        return new Head(last.seq(), last.entryHash());
    }

    // --- transactions

    /** Work on one connection that either commits as a whole or is rolled back. */
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs work in one transaction of its own, on a pooled connection with plain JDBC: no JTA
     * transaction and no persistence context. Committed when it returns, rolled back when it throws.
     */
    static <T> T inTransaction(DataSource dataSource, SqlWork<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return inTransaction(c, work);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** The same on a connection the caller holds (and closes). */
    static <T> T inTransaction(Connection c, SqlWork<T> work) throws SQLException {
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the connection is broken; closing it is all that is left to do
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    // --- chain heads

    /** Every chain's head as the database holds it. */
    static Map<String, Head> heads(DataSource dataSource) throws SQLException {
        Map<String, Head> heads = new HashMap<>();
        try (Connection c = dataSource.getConnection();
                var select = c.prepareStatement("SELECT chain_id, head_seq, head_hash FROM audit_chain");
                ResultSet r = select.executeQuery()) {
            while (r.next()) {
                heads.put(r.getString(1), new Head(r.getLong(2), r.getString(3)));
            }
        }
        return heads;
    }

    /**
     * Moves a chain's head from {@code from} to {@code to} if no other writer moved it since; 1 when
     * it did (the row is now locked until commit), 0 otherwise.
     */
    static int moveHead(Connection c, String chain, Head from, Head to, OffsetDateTime now) throws SQLException {
        try (var update = c.prepareStatement("UPDATE audit_chain SET head_seq = ?, head_hash = ?, updated_at = ?"
                + " WHERE chain_id = ? AND head_seq = ? AND head_hash = ?")) {
            update.setLong(1, to.seq());
            update.setString(2, to.hash());
            update.setObject(3, now);
            update.setString(4, chain);
            update.setLong(5, from.seq());
            update.setString(6, from.hash());
            return update.executeUpdate();
        }
    }

    /** The chain's head, locked until commit; null when the chain has none yet. */
    static Head lockHead(Connection c, String chain) throws SQLException {
        try (var select = c.prepareStatement("SELECT head_seq, head_hash FROM audit_chain WHERE chain_id = ? FOR UPDATE")) {
            select.setString(1, chain);
            try (ResultSet r = select.executeQuery()) {
                return r.next() ? new Head(r.getLong(1), r.getString(2)) : null;
            }
        }
    }

    static void setHead(Connection c, String chain, Head to, OffsetDateTime now) throws SQLException {
        try (var update = c.prepareStatement(
                "UPDATE audit_chain SET head_seq = ?, head_hash = ?, updated_at = ? WHERE chain_id = ?")) {
            update.setLong(1, to.seq());
            update.setString(2, to.hash());
            update.setObject(3, now);
            update.setString(4, chain);
            update.executeUpdate();
        }
    }

    /** A new chain's head row; a replica creating the same one at once makes this fail, and the batch is retried. */
    static void createHead(Connection c, String chain, Head head, OffsetDateTime now) throws SQLException {
        try (var insert = c.prepareStatement(
                "INSERT INTO audit_chain (chain_id, head_seq, head_hash, updated_at) VALUES (?, ?, ?, ?)")) {
            insert.setString(1, chain);
            insert.setLong(2, head.seq());
            insert.setString(3, head.hash());
            insert.setObject(4, now);
            insert.executeUpdate();
        }
    }

    // --- rows

    /** The columns of audit_entry, in the order {@link #bind} sets them. */
    static final String COLUMNS = "id, chain_id, seq, kind, request_id, recorded_at, tenant, subject, username,"
            + " email, model, region, decision, state, http_status, tags, body, body_sha256, prev_hash, entry_hash,"
            + " content, content_mode, content_expires_at, metadata_expires_at";
    static final int COLUMN_COUNT = 24;
    /** One row's placeholders, {@code (?, ..., ?)}. */
    private static final String ROW = "(" + "?, ".repeat(COLUMN_COUNT - 1) + "?)";

    /** Rows per INSERT statement, largest first: a batch goes out as a few multi-row statements of these sizes. */
    private static final int[] ROWS_PER_STATEMENT = {32, 8, 1};
    private static final String[] INSERTS = new String[ROWS_PER_STATEMENT.length];

    static {
        for (int i = 0; i < ROWS_PER_STATEMENT.length; i++) {
            INSERTS[i] = "INSERT INTO audit_entry (" + COLUMNS + ") VALUES "
                    + String.join(", ", java.util.Collections.nCopies(ROWS_PER_STATEMENT[i], ROW));
        }
    }

    /**
     * Inserts the rows in order with multi-row INSERTs (statements of one size sent as one JDBC
     * batch), each with its id. One statement of 32 rows costs the database much less
     * than 32 statements of one (one plan, one executor, one round trip).
     */
    static void insert(Connection c, List<Linked> rows, long[] ids) throws SQLException {
        int done = 0;
        for (int size = 0; size < ROWS_PER_STATEMENT.length; size++) {
            int per = ROWS_PER_STATEMENT[size];
            int statements = (rows.size() - done) / per;
            if (statements == 0) {
                continue;
            }
            try (var insert = c.prepareStatement(INSERTS[size])) {
                for (int s = 0; s < statements; s++) {
                    int p = 1;
                    for (int r = 0; r < per; r++, done++) {
                        p = bind(insert, p, ids[done], rows.get(done));
                    }
                    if (statements > 1) {
                        insert.addBatch();
                    }
                }
                if (statements > 1) {
                    insert.executeBatch();
                } else {
                    insert.executeUpdate();
                }
            }
        }
    }

    /** Sets one row's {@link #COLUMNS} from parameter {@code p} on; returns the next parameter's index. */
    static int bind(PreparedStatement insert, int p, long id, Linked row) throws SQLException {
        Draft d = row.pending().draft();
        insert.setLong(p++, id);
        insert.setString(p++, d.chain());
        insert.setLong(p++, row.seq());
        insert.setString(p++, d.kind());
        insert.setString(p++, d.requestId());
        insert.setObject(p++, utc(d.recordedAt()));
        insert.setString(p++, d.tenant());
        insert.setString(p++, d.subject());
        insert.setString(p++, d.username());
        insert.setString(p++, d.email());
        insert.setString(p++, d.model());
        insert.setString(p++, d.region());
        insert.setString(p++, d.decision());
        insert.setString(p++, d.state());
        if (d.httpStatus() == null) {
            insert.setNull(p++, Types.INTEGER);
        } else {
            insert.setInt(p++, d.httpStatus());
        }
        insert.setString(p++, d.tags());
        insert.setString(p++, row.pending().storedBody());
        insert.setString(p++, row.pending().bodySha256());
        insert.setString(p++, row.prevHash());
        insert.setString(p++, row.entryHash());
        insert.setString(p++, d.content());
        insert.setString(p++, d.contentMode());
        insert.setObject(p++, utc(d.contentExpiresAt()), Types.TIMESTAMP_WITH_TIMEZONE);
        insert.setObject(p++, utc(d.metadataExpiresAt()), Types.TIMESTAMP_WITH_TIMEZONE);
        return p;
    }

    private static OffsetDateTime utc(Instant t) {
        return t == null ? null : t.atOffset(ZoneOffset.UTC);
    }

    /** Tells the charge sinks (the usage ledger) what the rows charge, inside their transaction. */
    static void charge(Connection c, List<Linked> rows, Iterable<ChargeSink> sinks) throws SQLException {
        List<Charge> charges = new ArrayList<>();
        for (Linked row : rows) {
            if (row.pending().draft().charge() != null) {
                charges.add(row.pending().draft().charge());
            }
        }
        if (!charges.isEmpty() && sinks != null) {
            for (ChargeSink sink : sinks) {
                sink.charged(c, charges);
            }
        }
    }

    // --- entry ids

    /** The entries' sequence steps by this much (V100__audit.sql, AuditEntry's allocationSize). */
    static final int ID_BLOCK = 50;

    /**
     * Entry ids drawn from the entries' sequence as Hibernate's pooled optimizer uses it (each
     * value v of the sequence, which steps by {@link #ID_BLOCK}, stands for the ids v-49..v), so ids
     * never collide with those of another writer or replica drawing from the same sequence.
     * Touched by one thread only.
     */
    static final class SpareIds {
        private final ArrayDeque<Long> spare = new ArrayDeque<>();

        int size() {
            return spare.size();
        }

        /** Blocks needed for {@code n} more ids than are spare. */
        int blocksFor(int n) {
            return (n - spare.size() + ID_BLOCK - 1) / ID_BLOCK;
        }

        /** Adds the ids a value the sequence gave stands for. */
        void addBlock(long last) {
            for (long id = Math.max(1, last - ID_BLOCK + 1); id <= last; id++) {
                spare.add(id);
            }
        }

        long[] take(int n) {
            if (spare.size() < n) {
                throw new IllegalStateException("the entry id sequence gave fewer ids than asked for");
            }
            long[] ids = new long[n];
            for (int i = 0; i < n; i++) {
                ids[i] = spare.removeFirst();
            }
            return ids;
        }

        void clear() {
            spare.clear();
        }
    }
}
