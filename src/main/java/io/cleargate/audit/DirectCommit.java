package io.cleargate.audit;

import io.cleargate.audit.ChainRows.Head;
import io.cleargate.audit.ChainRows.Linked;
import io.cleargate.audit.ChainRows.Pending;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Group commit straight into the database: each batch is one plain-JDBC transaction, and the
 * batch's callers are told once it has committed (PostgreSQL forces its log at commit; an H2
 * store is forced after it). The path of PostgreSQL and of every store but the embedded H2 file.
 * The writer assigns sequence numbers and hashes in order while holding each chain's head row
 * locked, so replicas sharing the database append to one sequence per chain.
 */
final class DirectCommit implements CommitPath {

    private static final Logger LOG = Logger.getLogger(DirectCommit.class);

    private final DataSource dataSource;
    private final StoreHealth health;
    /** Forces batches to disk and gives space back (embedded H2); null without CDI. */
    private final StoreHousekeeping housekeeping;
    /** Whoever keeps aggregates of the charges (the usage ledger); null without CDI. */
    private final Iterable<ChargeSink> chargeSinks;

    /** Chain heads as of this writer's last commit. */
    private final Map<String, Head> known = new HashMap<>();
    private final ChainRows.SpareIds spareIds = new ChainRows.SpareIds();
    /** Whether the store is PostgreSQL; null until a connection has been seen. */
    private Boolean postgres;
    /**
     * The writer's own connection for the single statement (PostgreSQL), kept between batches with
     * the statement prepared on it: taking a pooled connection and giving it back, and preparing
     * the statement, cost a lone commit some 0.02-0.03 ms of its 0.5 (pg8's stamps, speed.md
     * section 24). Null until first used, and again after any failure on it.
     */
    private Connection own;
    private final PreparedStatement[] ownStatements = new PreparedStatement[ONE_STATEMENT_ROWS + 1];

    /** When the writer last committed, and records written since its last housekeeping step. */
    private long lastBatchAt;
    private int sinceStep;
    /** Batches written since the store was last compacted while idle. */
    private boolean compacted = true;

    DirectCommit(DataSource dataSource, StoreHealth health, StoreHousekeeping housekeeping,
            Iterable<ChargeSink> chargeSinks) {
        this.dataSource = dataSource;
        this.health = health;
        this.housekeeping = housekeeping;
        this.chargeSinks = chargeSinks;
    }

    @Override
    public void commit(List<Pending> batch) {
        try {
            if (health.spaceRunsOut()) {
                health.set(false);
                health.failed("disk");
                var refused = new AuditUnavailableException("the audit store's disk is nearly full", null);
                batch.forEach(p -> p.done().completeExceptionally(refused));
                return;
            }
            List<Appended> appended = writeWithRetry(batch);
            if (!forcedToDisk(batch)) {
                return;
            }
            health.set(true);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).done().complete(appended.get(i));
            }
            betweenBatches(batch.size());
        } catch (RuntimeException e) {
            LOG.errorf("audit batch of %d entries failed: %s", batch.size(), AuditWriter.describe(e));
            if (batch.size() == 1) {
                health.set(false);
                batch.getFirst().done().completeExceptionally(e);
            } else {
                health.set(writeEachAlone(batch));
            }
        }
    }

    /** Once nothing has been written for a second, compacts what the last burst left behind. */
    @Override
    public void idle() {
        if (housekeeping != null && !compacted && System.nanoTime() - lastBatchAt > StoreHousekeeping.IDLE_NANOS) {
            compacted = true;
            try {
                housekeeping.compact(500);
            } catch (RuntimeException e) {
                LOG.warnf("audit store compaction failed: %s", AuditWriter.describe(e));
            }
        }
    }

    /** The database itself is the whole path: when it writes, this works. */
    @Override
    public boolean working() {
        return true;
    }

    /** Committed is stored: nothing to wait for. */
    @Override
    public void awaitStored() {}

    @Override
    public void close() {
        dropOwnConnection();
    }

    /**
     * After a commit: true once the batch is on disk. Otherwise every caller is refused (the
     * records stay committed, but nobody is told they are durable) and the batch is not written
     * again, which would append each entry twice.
     */
    private boolean forcedToDisk(List<Pending> batch) {
        try {
            forceToDisk();
            return true;
        } catch (RuntimeException e) {
            LOG.errorf("audit batch of %d entries committed but not forced to disk: %s", batch.size(),
                    AuditWriter.describe(e));
            health.set(false);
            health.failed("sync");
            var refused = new AuditUnavailableException("the audit store could not force its file to disk", e);
            batch.forEach(p -> p.done().completeExceptionally(refused));
            return false;
        }
    }

    /** Committed is not yet durable on an embedded store: one fsync for the whole batch. */
    private void forceToDisk() {
        if (housekeeping != null) {
            housekeeping.sync();
        }
        lastBatchAt = System.nanoTime();
        compacted = false;
    }

    /** Under load, a bounded compaction step every few hundred records, between two batches. */
    private void betweenBatches(int written) {
        sinceStep += written;
        if (housekeeping != null && sinceStep >= StoreHousekeeping.STEP_EVERY_RECORDS) {
            sinceStep = 0;
            try {
                housekeeping.step();
            } catch (RuntimeException e) {
                LOG.warnf("audit store compaction step failed: %s", AuditWriter.describe(e));
            }
        }
    }

    /**
     * After a failed batch, each entry is written in its own transaction, so one entry the
     * store refuses fails only its own request, never the others' in the batch. True when any
     * entry could be written (the store works).
     */
    private boolean writeEachAlone(List<Pending> batch) {
        boolean any = false;
        for (Pending p : batch) {
            try {
                Batch written = transaction(List.of(p));
                known.putAll(written.heads());
                forceToDisk();
                p.done().complete(written.appended().getFirst());
                any = true;
            } catch (RuntimeException e) {
                known.clear();
                p.done().completeExceptionally(e);
            }
        }
        if (!any) {
            LOG.errorf("audit store refused all %d entries of the batch, each written alone", batch.size());
        }
        return any;
    }

    private List<Appended> writeWithRetry(List<Pending> batch) {
        Batch written;
        try {
            written = oneStatement(batch);
            if (written == null) {
                written = transaction(batch);
            }
        } catch (RuntimeException first) {
            // A replica may have created the same new chain head concurrently: one retry sees it.
            known.clear();
            try {
                written = transaction(batch);
            } catch (RuntimeException second) {
                known.clear();
                throw second;
            }
        }
        known.putAll(written.heads()); // only once committed
        return written.appended();
    }

    private record Batch(List<Appended> appended, Map<String, Head> heads) {}

    /**
     * Writes the batch in one transaction of its own: the writer's cost per record is the rows it
     * binds, and a batch of any size commits (and, on PostgreSQL, forces the log) once.
     */
    private Batch transaction(List<Pending> batch) {
        return ChainRows.inTransaction(dataSource, c -> write(c, batch));
    }

    /** Most rows the single-statement path writes at once; larger batches go the general way. */
    private static final int ONE_STATEMENT_ROWS = 8;

    /**
     * On PostgreSQL, a batch of a few rows for one chain whose head this writer knows (request and
     * final records, admin events, a lone request at low load) is written with one statement: the
     * head moves in a data-modifying WITH clause and the rows are inserted only if it moved. Charging
     * nothing, the statement runs in autocommit mode: one round trip and one forced log write, where
     * the general path takes a round trip per statement and another for the commit. Rows that charge
     * (final records) add the usage ledger's statements and the commit in the same transaction:
     * three round trips instead of four. If another replica moved the head first (the UPDATE waits
     * for that replica's commit, then finds the head changed), nothing at all is written and this
     * returns null, as it does when the path does not apply.
     */
    private Batch oneStatement(List<Pending> batch) {
        if (Boolean.FALSE.equals(postgres) || batch.size() > ONE_STATEMENT_ROWS) {
            return null;
        }
        String chain = batch.getFirst().draft().chain();
        Head cached = known.get(chain);
        if (cached == null) {
            return null;
        }
        boolean charges = false;
        for (Pending p : batch) {
            if (!p.draft().chain().equals(chain)) {
                return null;
            }
            charges |= p.draft().charge() != null;
        }
        try {
            Connection c = ownConnection();
            if (!postgres(c)) {
                dropOwnConnection();
                return null;
            }
            List<Linked> rows = ChainRows.link(chain, batch, cached);
            Head head = ChainRows.headOf(rows);
            long[] ids = ids(c, rows.size());
            PreparedStatement statement = ownStatement(c, rows.size());
            if (!charges) {
                c.setAutoCommit(true);
                return moved(statement, chain, cached, head, rows, ids) ? batchOf(chain, head, rows, ids) : null;
            }
            return ChainRows.inTransaction(c, t -> {
                if (!moved(statement, chain, cached, head, rows, ids)) {
                    return null; // the statement wrote nothing: an empty transaction commits
                }
                ChainRows.charge(t, rows, chargeSinks);
                return batchOf(chain, head, rows, ids);
            });
        } catch (SQLException e) {
            dropOwnConnection();
            throw new ChainRows.StoreException(e);
        } catch (RuntimeException e) {
            dropOwnConnection();
            throw e;
        }
    }

    /** The writer's own connection, taken from the pool the first time and after a failure. */
    private Connection ownConnection() throws SQLException {
        if (own == null) {
            own = dataSource.getConnection();
        }
        return own;
    }

    /** The single statement for {@code rows} rows, prepared once on the writer's own connection. */
    private PreparedStatement ownStatement(Connection c, int rows) throws SQLException {
        PreparedStatement statement = ownStatements[rows];
        if (statement == null) {
            statement = c.prepareStatement(ONE_STATEMENT[rows]);
            ownStatements[rows] = statement;
        }
        return statement;
    }

    /**
     * After any failure on the writer's own connection: its statements are closed and it goes back
     * to the pool (which discards it if it is broken); the next batch takes a fresh one.
     */
    private void dropOwnConnection() {
        for (int i = 0; i < ownStatements.length; i++) {
            closeQuietly(ownStatements[i]);
            ownStatements[i] = null;
        }
        closeQuietly(own);
        own = null;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.debugf("closing the audit writer's statement or connection failed: %s", AuditWriter.describe(e));
            }
        }
    }

    /** Runs the single statement; true when the head moved from {@code from} to {@code to} and every row went in. */
    private static boolean moved(PreparedStatement statement, String chain, Head from, Head to, List<Linked> rows,
            long[] ids) throws SQLException {
        statement.setLong(1, to.seq());
        statement.setString(2, to.hash());
        statement.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
        statement.setString(4, chain);
        statement.setLong(5, from.seq());
        statement.setString(6, from.hash());
        int p = 7;
        for (int i = 0; i < rows.size(); i++) {
            p = ChainRows.bind(statement, p, ids[i], rows.get(i));
        }
        return statement.executeUpdate() == rows.size();
    }

    private static Batch batchOf(String chain, Head head, List<Linked> rows, long[] ids) {
        List<Appended> appended = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            appended.add(rows.get(i).appended(ids[i]));
        }
        return new Batch(appended, Map.of(chain, head));
    }

    /** The single statement for 1..{@link #ONE_STATEMENT_ROWS} rows (PostgreSQL). */
    private static final String[] ONE_STATEMENT = new String[ONE_STATEMENT_ROWS + 1];

    /**
     * One row of the single statement's VALUES list, its timestamps cast. The driver sends a null
     * timestamp untyped, which a VALUES list (unlike INSERT ... VALUES) takes for text: without the
     * casts every entry without retention dates (admin events) failed the statement and was written
     * again the general way, two tries and a lost head where one round trip was meant.
     */
    private static final String TYPED_ROW;

    static {
        StringBuilder row = new StringBuilder("(");
        for (String column : ChainRows.COLUMNS.split(", ")) {
            row.append(row.length() > 1 ? ", " : "")
                    .append(column.endsWith("_at") ? "CAST(? AS TIMESTAMP WITH TIME ZONE)" : "?");
        }
        TYPED_ROW = row.append(')').toString();
        for (int n = 1; n <= ONE_STATEMENT_ROWS; n++) {
            ONE_STATEMENT[n] = "WITH moved AS (UPDATE audit_chain SET head_seq = ?, head_hash = ?, updated_at = ?"
                    + " WHERE chain_id = ? AND head_seq = ? AND head_hash = ? RETURNING chain_id)"
                    + " INSERT INTO audit_entry (" + ChainRows.COLUMNS + ") SELECT v.* FROM moved, (VALUES "
                    + String.join(", ", java.util.Collections.nCopies(n, TYPED_ROW)) + ") AS v";
        }
    }

    private boolean postgres(Connection c) throws SQLException {
        if (postgres == null) {
            postgres = c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
        }
        return postgres;
    }

    /**
     * Appends the batch, chain by chain in sorted order (so two replicas cannot deadlock). When
     * this writer knows a chain's head from its own last commit, one conditional UPDATE both
     * locks the head row and checks that no other replica appended since; otherwise, or when the
     * check fails, the head is read with SELECT ... FOR UPDATE (or created). Either way the row
     * stays locked until commit, so appends to a chain are serialised across replicas. Then every
     * row of the batch is inserted with a few multi-row statements.
     */
    private Batch write(Connection c, List<Pending> batch) throws SQLException {
        Map<String, List<Pending>> byChain = new TreeMap<>();
        for (Pending p : batch) {
            byChain.computeIfAbsent(p.draft().chain(), k -> new ArrayList<>()).add(p);
        }
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        List<Linked> rows = new ArrayList<>(batch.size());
        Map<String, Head> heads = new HashMap<>();
        for (var chain : byChain.entrySet()) {
            String id = chain.getKey();
            Head cached = known.get(id);
            List<Linked> linked = null;
            if (cached != null) {
                linked = ChainRows.link(id, chain.getValue(), cached);
                if (ChainRows.moveHead(c, id, cached, ChainRows.headOf(linked), now) != 1) {
                    linked = null;
                }
            }
            if (linked == null) {
                Head locked = ChainRows.lockHead(c, id);
                linked = ChainRows.link(id, chain.getValue(), locked == null ? new Head(0, Canonical.GENESIS) : locked);
                if (locked == null) {
                    ChainRows.createHead(c, id, ChainRows.headOf(linked), now);
                } else {
                    ChainRows.setHead(c, id, ChainRows.headOf(linked), now);
                }
            }
            rows.addAll(linked);
            heads.put(id, ChainRows.headOf(linked));
        }
        long[] ids = ids(c, rows.size());
        ChainRows.insert(c, rows, ids);
        ChainRows.charge(c, rows, chargeSinks);
        Map<Pending, Appended> where = new java.util.IdentityHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            where.put(rows.get(i).pending(), rows.get(i).appended(ids[i]));
        }
        List<Appended> appended = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            appended.add(where.get(p));
        }
        return new Batch(appended, heads);
    }

    /**
     * {@code n} entry ids. The blocks a batch lacks are drawn with one query (PostgreSQL: one round
     * trip for a whole batch).
     */
    private long[] ids(Connection c, int n) throws SQLException {
        int blocks = spareIds.blocksFor(n);
        if (blocks > 0) {
            boolean postgres = postgres(c);
            // H2 is in the process: a query per block costs no round trip.
            String sql = postgres ? "SELECT nextval('audit_entry_id_seq') FROM generate_series(1, ?)"
                    : "SELECT NEXT VALUE FOR audit_entry_id_seq";
            try (var select = c.prepareStatement(sql)) {
                for (int drawn = 0; drawn < blocks; drawn += postgres ? blocks : 1) {
                    if (postgres) {
                        select.setInt(1, blocks);
                    }
                    try (ResultSet r = select.executeQuery()) {
                        while (r.next()) {
                            spareIds.addBlock(r.getLong(1));
                        }
                    }
                }
            }
        }
        return spareIds.take(n);
    }
}
