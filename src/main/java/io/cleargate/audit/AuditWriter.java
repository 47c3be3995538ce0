package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Group commit: one writer thread takes every pending entry, appends a batch of them in a single
 * transaction, and completes each caller's future once the transaction has committed. The writer
 * assigns sequence numbers and hashes in order while holding each chain's head row locked
 * (SELECT ... FOR UPDATE), so replicas sharing the database append to one sequence per chain.
 * It never waits to fill a batch: whatever is queued when it is free goes out at once, so a lone
 * request commits alone and under load a batch is what arrived during the previous commit.
 */
@ApplicationScoped
public class AuditWriter {

    private static final Logger LOG = Logger.getLogger(AuditWriter.class);

    /** An entry as built by a caller, before it has a place in its chain. */
    public record Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
            String model, String region, String decision, String state, Integer httpStatus, String tags,
            String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt,
            String username, String email, Charge charge) {

        /** A draft that charges nothing. */
        public Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
                String model, String region, String decision, String state, Integer httpStatus, String tags,
                String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt,
                String username, String email) {
            this(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision, state, httpStatus, tags,
                    body, content, contentMode, contentExpiresAt, metadataExpiresAt, username, email, null);
        }

        /** A draft of an entry that names no person (admin events, tests). */
        public Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
                String model, String region, String decision, String state, Integer httpStatus, String tags,
                String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt) {
            this(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision, state, httpStatus, tags,
                    body, content, contentMode, contentExpiresAt, metadataExpiresAt, null, null);
        }
    }

    /** Where an entry landed. */
    public record Appended(long id, String chain, long seq, String entryHash) {}

    /**
     * A draft waiting for the writer, with its body hashed and encoded for storage by the caller
     * (off the single writer thread).
     */
    private record Pending(Draft draft, String bodySha256, String storedBody, CompletableFuture<Appended> done) {}

    private final EntityManager em;
    private final DataSource dataSource;
    private final AuditConfig config;
    /** Chain heads as of this writer's last commit; touched by the writer thread only. */
    private final Map<String, Head> known = new HashMap<>();
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(100_000);
    /** Fails waits for a durable record once the commit timeout has passed; see {@link CommitDeadlines}. */
    private final CommitDeadlines commitDeadlines = new CommitDeadlines(java.time.Duration.ofMillis(50));
    private volatile boolean healthy = true;
    private volatile boolean running;
    private Thread thread;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.datasource.jdbc.url")
    java.util.Optional<String> jdbcUrl = java.util.Optional.empty();
    private StoreDisk disk;
    private volatile boolean lowOnSpace;

    /** Whoever keeps aggregates of the charges (the usage ledger); optional so the writer also runs outside CDI. */
    @Inject
    jakarta.enterprise.inject.Instance<ChargeSink> chargeSinks;

    /** Forces batches to disk and gives space back (embedded H2); optional so the writer also runs outside CDI. */
    @Inject
    StoreHousekeeping housekeeping;
    /** When the writer last committed, and records written since its last housekeeping step (writer thread only). */
    private long lastBatchAt;
    private int sinceStep;
    /** Batches written since the store was last compacted while idle. */
    private boolean compacted = true;
    /** A step rewrites about what this many records left half-empty: its cost per record is fixed, whatever the rate. */
    private static final int STEP_EVERY_RECORDS = 256;
    private static final long IDLE_NANOS = 1_000_000_000L;

    /** Optional so the writer also runs outside CDI; see k8s/README.md for the metric contract. */
    @Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    @Inject
    public AuditWriter(EntityManager em, DataSource dataSource, AuditConfig config) {
        this.em = em;
        this.dataSource = dataSource;
        this.config = config;
    }

    private io.micrometer.core.instrument.Timer writeTimer;

    @jakarta.annotation.PostConstruct
    void registerMetrics() {
        if (meters != null) {
            meters.gauge("cleargate.audit.backlog", queue, LinkedBlockingQueue::size);
            writeTimer = io.micrometer.core.instrument.Timer.builder("cleargate.audit.write")
                    .publishPercentileHistogram().register(meters);
        }
    }

    private void failed(String reason) {
        if (meters != null) {
            meters.counter("cleargate.audit.write.failures", "reason", reason).increment();
        }
    }

    void start(@Observes StartupEvent ignored) {
        disk = StoreDisk.of(jdbcUrl, config.minFreeSpace().asLongValue());
        if (housekeeping != null && housekeeping.embeddedFile()) {
            openJournal();
        }
        running = true;
        thread = Thread.ofPlatform().name("audit-writer").daemon(true)
                .start(journal == null ? this::run : this::runJournaled);
    }

    void stop(@Observes ShutdownEvent ignored) throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
        if (journal != null) {
            closeJournal();
        }
        // The embedded store is compacted into a fresh file when H2 closes it, at the end of
        // shutdown; not while the writer may still be inside a batch.
        if (housekeeping != null && (thread == null || !thread.isAlive())) {
            try {
                housekeeping.compactAtClose();
            } catch (RuntimeException e) {
                LOG.warnf("audit store not compacted at shutdown: %s", describe(e));
            }
        }
    }

    /** True while the last write (or probe) succeeded. Readiness reports it. */
    public boolean healthy() {
        return healthy;
    }

    public CompletableFuture<Appended> append(Draft draft) {
        // Hashing and encoding the body here, on the caller's thread, keeps the single writer for the store.
        byte[] body = draft.body().getBytes(StandardCharsets.UTF_8);
        var pending = new Pending(draft, Canonical.sha256(body), StoredBody.encode(body), new CompletableFuture<>());
        if (!running || !queue.offer(pending)) {
            pending.done().completeExceptionally(new AuditUnavailableException("audit writer not accepting", null));
        }
        return pending.done();
    }

    /** Appends and waits until durable; throws {@link AuditUnavailableException} otherwise. */
    public Appended appendDurably(Draft draft) {
        long start = System.nanoTime();
        CompletableFuture<Appended> done = append(draft);
        if (!done.isDone()) {
            // An untimed wait: the watchdog enforces the commit timeout (a timed park costs a timer per wait).
            commitDeadlines.watch(done, start + config.commitTimeout().toNanos());
        }
        try {
            Appended appended = done.get();
            if (writeTimer != null) {
                writeTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
            return appended;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TimeoutException timedOut) {
                healthy = false;
                failed("timeout");
                throw new AuditUnavailableException("audit store write timed out", timedOut);
            }
            failed("error");
            throw new AuditUnavailableException("audit store write failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("interrupted while waiting for the audit store", e);
        }
    }

    /**
     * Writes to the store as a batch would: rewrites the probe row with a payload of the size of
     * a small batch and commits. Reading is not enough: a full disk or a read-only database still
     * answers reads. Run by readiness every few seconds, with or without traffic.
     */
    public boolean probe() {
        if (spaceRunsOut()) {
            healthy = false;
            return false;
        }
        try {
            String payload = java.util.HexFormat.of().formatHex(Keyring.random(PROBE_BYTES / 2));
            QuarkusTransaction.requiringNew().run(() -> {
                em.createQuery("select count(e) from AuditEntry e where e.id = -1").getSingleResult();
                em.createQuery("select count(h) from ChainHead h where h.chainId = ''").getSingleResult();
                int rows = em.createNativeQuery("UPDATE audit_probe SET probed_at = ?1, payload = ?2 WHERE id = 1")
                        .setParameter(1, Instant.now()).setParameter(2, payload).executeUpdate();
                if (rows != 1) {
                    throw new IllegalStateException("the audit probe row is missing");
                }
            });
            // Embedded store: the database writes, but the journal must too, and the applier keep up.
            healthy = !journalBroken && applyFailure == null;
        } catch (RuntimeException e) {
            if (healthy) {
                LOG.errorf("audit store cannot write: %s", describe(e));
            }
            healthy = false;
        }
        return healthy;
    }

    private static final int PROBE_BYTES = 16 * 1024;

    /** True while the embedded database's disk is below its reserve; logs each change once. */
    private boolean spaceRunsOut() {
        boolean low = disk != null && disk.low();
        if (low != lowOnSpace) {
            lowOnSpace = low;
            if (low) {
                LOG.errorf("audit store: less than %d bytes free for the database, refusing to write", disk.reserve());
            } else {
                LOG.infof("audit store: free space is back above %d bytes", disk.reserve());
            }
        }
        return low;
    }

    private void run() {
        while (running || !queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    whileIdle();
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, config.maxBatch() - 1);
                if (spaceRunsOut()) {
                    healthy = false;
                    failed("disk");
                    var refused = new AuditUnavailableException("the audit store's disk is nearly full", null);
                    batch.forEach(p -> p.done().completeExceptionally(refused));
                    continue;
                }
                List<Appended> appended = writeWithRetry(batch);
                if (!forcedToDisk(batch)) {
                    continue;
                }
                healthy = true;
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).done().complete(appended.get(i));
                }
                betweenBatches(batch.size());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.errorf("audit batch of %d entries failed: %s", batch.size(), describe(e));
                if (batch.size() == 1) {
                    healthy = false;
                    batch.getFirst().done().completeExceptionally(e);
                } else {
                    healthy = writeEachAlone(batch);
                }
            }
        }
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
            LOG.errorf("audit batch of %d entries committed but not forced to disk: %s", batch.size(), describe(e));
            healthy = false;
            failed("sync");
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
        if (housekeeping != null && sinceStep >= STEP_EVERY_RECORDS) {
            sinceStep = 0;
            try {
                housekeeping.step();
            } catch (RuntimeException e) {
                LOG.warnf("audit store compaction step failed: %s", describe(e));
            }
        }
    }

    /** Once nothing has been written for a second, compacts what the last burst left behind. */
    private void whileIdle() {
        if (housekeeping != null && !compacted && System.nanoTime() - lastBatchAt > IDLE_NANOS) {
            compacted = true;
            try {
                housekeeping.compact(500);
            } catch (RuntimeException e) {
                LOG.warnf("audit store compaction failed: %s", describe(e));
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

    /**
     * Exception classes and SQL states only: driver messages can quote the failed statement with
     * its parameter values, which would put prompts and outputs in the log.
     */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null && sb.length() < 500; t = t.getCause()) {
            sb.append(sb.isEmpty() ? "" : " <- ").append(t.getClass().getSimpleName());
            if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
                sb.append("[SQLState ").append(sql.getSQLState()).append(']');
            }
        }
        return sb.toString();
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

    private record Head(long seq, String hash) {}

    private record Batch(List<Appended> appended, Map<String, Head> heads) {}

    /** A pending entry with its place in its chain. */
    private record Linked(Pending pending, long seq, String prevHash, String entryHash) {}

    /** A failed statement or commit, as the writer's callers see it (describe() shows the SQL state). */
    static final class StoreException extends RuntimeException {
        StoreException(SQLException cause) {
            super("audit store statement failed", cause);
        }
    }

    /**
     * Writes the batch in one transaction of its own, on a pooled connection with plain JDBC: no
     * JTA transaction and no persistence context, so the writer's cost per record is the rows it
     * binds, and a batch of any size commits (and, on PostgreSQL, forces the log) once.
     */
    private Batch transaction(List<Pending> batch) {
        return inTransaction(c -> write(c, batch));
    }

    /** Work on one connection that either commits as a whole or is rolled back. */
    private interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs work in one transaction: committed when it returns, rolled back when it throws. */
    private <T> T inTransaction(SqlWork<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; closing it below is all that is left to do
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** The columns of audit_entry, in the order {@link #bind} sets them. */
    private static final String COLUMNS = "id, chain_id, seq, kind, request_id, recorded_at, tenant, subject, username,"
            + " email, model, region, decision, state, http_status, tags, body, body_sha256, prev_hash, entry_hash,"
            + " content, content_mode, content_expires_at, metadata_expires_at";
    private static final int COLUMN_COUNT = 24;

    /** Most rows the single-statement path writes at once; larger batches go the general way. */
    private static final int ONE_STATEMENT_ROWS = 8;

    /**
     * On PostgreSQL, a batch of a few rows for one chain whose head this writer knows, charging
     * nothing (request records, admin events, a lone request at low load), is written with one
     * statement in autocommit mode: one round trip and one forced log write, where the general path
     * takes a round trip per statement and another for the commit. The head moves in a
     * data-modifying WITH clause and the rows are inserted only if it moved. If another replica
     * moved it first (the UPDATE waits for that replica's commit, then finds the head changed),
     * nothing at all is written and this returns null, as it does when the path does not apply.
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
        for (Pending p : batch) {
            if (!p.draft().chain().equals(chain) || p.draft().charge() != null) {
                return null;
            }
        }
        try (Connection c = dataSource.getConnection()) {
            if (!postgres(c)) {
                return null;
            }
            List<Linked> rows = link(chain, batch, cached);
            Head head = headOf(rows);
            long[] ids = ids(c, rows.size());
            c.setAutoCommit(true);
            try (var statement = c.prepareStatement(ONE_STATEMENT[rows.size()])) {
                statement.setLong(1, head.seq());
                statement.setString(2, head.hash());
                statement.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
                statement.setString(4, chain);
                statement.setLong(5, cached.seq());
                statement.setString(6, cached.hash());
                int p = 7;
                for (int i = 0; i < rows.size(); i++) {
                    p = bind(statement, p, ids[i], rows.get(i));
                }
                if (statement.executeUpdate() != rows.size()) {
                    return null;
                }
            }
            List<Appended> appended = new ArrayList<>(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                appended.add(new Appended(ids[i], chain, rows.get(i).seq(), rows.get(i).entryHash()));
            }
            return new Batch(appended, Map.of(chain, head));
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** The single statement for 1..{@link #ONE_STATEMENT_ROWS} rows (PostgreSQL). */
    private static final String[] ONE_STATEMENT = new String[ONE_STATEMENT_ROWS + 1];

    static {
        String row = "(" + "?, ".repeat(COLUMN_COUNT - 1) + "?)";
        for (int n = 1; n <= ONE_STATEMENT_ROWS; n++) {
            ONE_STATEMENT[n] = "WITH moved AS (UPDATE audit_chain SET head_seq = ?, head_hash = ?, updated_at = ?"
                    + " WHERE chain_id = ? AND head_seq = ? AND head_hash = ? RETURNING chain_id)"
                    + " INSERT INTO audit_entry (" + COLUMNS + ") SELECT v.* FROM moved, (VALUES "
                    + String.join(", ", java.util.Collections.nCopies(n, row)) + ") AS v";
        }
    }

    /** Whether the store is PostgreSQL; null until a connection has been seen (writer thread only). */
    private Boolean postgres;

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
                linked = link(id, chain.getValue(), cached);
                if (moveHead(c, id, cached, headOf(linked), now) != 1) {
                    linked = null;
                }
            }
            if (linked == null) {
                Head locked = lockHead(c, id);
                linked = link(id, chain.getValue(), locked == null ? new Head(0, Canonical.GENESIS) : locked);
                if (locked == null) {
                    createHead(c, id, headOf(linked), now);
                } else {
                    setHead(c, id, headOf(linked), now);
                }
            }
            rows.addAll(linked);
            heads.put(id, headOf(linked));
        }
        long[] ids = ids(c, rows.size());
        insert(c, rows, ids);
        charge(c, rows);
        Map<Pending, Appended> where = new java.util.IdentityHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            Linked row = rows.get(i);
            where.put(row.pending(), new Appended(ids[i], row.pending().draft().chain(), row.seq(), row.entryHash()));
        }
        List<Appended> appended = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            appended.add(where.get(p));
        }
        return new Batch(appended, heads);
    }

    private static Head headOf(List<Linked> linked) {
        Linked last = linked.getLast();
        return new Head(last.seq(), last.entryHash());
    }

    /**
     * Moves a chain's head from {@code from} to {@code to} if no other writer moved it since; 1 when
     * it did (the row is now locked until commit), 0 otherwise.
     */
    private static int moveHead(Connection c, String chain, Head from, Head to, OffsetDateTime now) throws SQLException {
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
    private static Head lockHead(Connection c, String chain) throws SQLException {
        try (var select = c.prepareStatement("SELECT head_seq, head_hash FROM audit_chain WHERE chain_id = ? FOR UPDATE")) {
            select.setString(1, chain);
            try (ResultSet r = select.executeQuery()) {
                return r.next() ? new Head(r.getLong(1), r.getString(2)) : null;
            }
        }
    }

    private static void setHead(Connection c, String chain, Head to, OffsetDateTime now) throws SQLException {
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
    private static void createHead(Connection c, String chain, Head head, OffsetDateTime now) throws SQLException {
        try (var insert = c.prepareStatement(
                "INSERT INTO audit_chain (chain_id, head_seq, head_hash, updated_at) VALUES (?, ?, ?, ?)")) {
            insert.setString(1, chain);
            insert.setLong(2, head.seq());
            insert.setString(3, head.hash());
            insert.setObject(4, now);
            insert.executeUpdate();
        }
    }

    /** Assigns sequence numbers and hashes after {@code head}, in the order the drafts arrived. */
    private static List<Linked> link(String chain, List<Pending> pending, Head head) {
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

    /** Rows per INSERT statement, largest first: a batch goes out as a few multi-row statements of these sizes. */
    private static final int[] ROWS_PER_STATEMENT = {32, 8, 1};
    private static final String[] INSERTS = new String[ROWS_PER_STATEMENT.length];

    static {
        String row = "(" + "?, ".repeat(COLUMN_COUNT - 1) + "?)";
        for (int i = 0; i < ROWS_PER_STATEMENT.length; i++) {
            INSERTS[i] = "INSERT INTO audit_entry (" + COLUMNS + ") VALUES "
                    + String.join(", ", java.util.Collections.nCopies(ROWS_PER_STATEMENT[i], row));
        }
    }

    /**
     * Inserts the rows in order with multi-row INSERTs (statements of one size sent as one JDBC
     * batch), each with its id. One statement of 32 rows costs the database much less
     * than 32 statements of one (one plan, one executor, one round trip).
     */
    private static void insert(Connection c, List<Linked> rows, long[] ids) throws SQLException {
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

    /** Tells the charge sinks (the usage ledger) what the rows charge, inside their transaction. */
    private void charge(Connection c, List<Linked> rows) throws SQLException {
        List<Charge> charges = new ArrayList<>();
        for (Linked row : rows) {
            if (row.pending().draft().charge() != null) {
                charges.add(row.pending().draft().charge());
            }
        }
        if (!charges.isEmpty() && chargeSinks != null) {
            for (ChargeSink sink : chargeSinks) {
                sink.charged(c, charges);
            }
        }
    }

    private static int bind(PreparedStatement insert, int p, long id, Linked row) throws SQLException {
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

    /**
     * {@code n} entry ids, from the entries' sequence as Hibernate's pooled optimizer uses it (each
     * value v of the sequence, which steps by {@link #ID_BLOCK}, stands for the ids v-49..v), so ids
     * never collide with those of another writer or replica drawing from the same sequence. The
     * blocks a batch lacks are drawn with one query (PostgreSQL: one round trip for a whole batch).
     */
    private long[] ids(Connection c, int n) throws SQLException {
        int missing = n - spareIds.size();
        if (missing > 0) {
            int blocks = (missing + ID_BLOCK - 1) / ID_BLOCK;
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
                            long last = r.getLong(1);
                            for (long id = Math.max(1, last - ID_BLOCK + 1); id <= last; id++) {
                                spareIds.add(id);
                            }
                        }
                    }
                }
            }
            if (spareIds.size() < n) {
                throw new IllegalStateException("the entry id sequence gave fewer ids than asked for");
            }
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = spareIds.removeFirst();
        }
        return ids;
    }

    /** The entries' sequence steps by this much (V100__audit.sql, AuditEntry's allocationSize). */
    private static final int ID_BLOCK = 50;
    /** Ids drawn from the sequence and not used yet (writer thread only). */
    private final java.util.ArrayDeque<Long> spareIds = new java.util.ArrayDeque<>();

    // --- the embedded store's journal (H2 file)

    /**
     * Embedded H2 file: every batch is made durable by one forced append to {@link Journal} and
     * acknowledged then; an applier thread inserts what was journaled into H2 in larger
     * transactions and forces H2 after each, off the requests' path. Null on any other store
     * (PostgreSQL forces its own log at commit).
     */
    private Journal journal;
    /** Set once a journal write or force failed: nothing more is acknowledged until a restart. */
    private volatile boolean journalBroken;
    /** The applier's last failure, while it lasts (null once a transaction succeeds again). */
    private volatile RuntimeException applyFailure;
    private Thread applier;
    /** Largest lsn acknowledged, inserted into H2, and inserted with H2 forced since. */
    private volatile long ackedLsn;
    private volatile long appliedLsn;
    private volatile long forcedLsn;
    /** Guards the fields below and is the monitor the applier and the barrier wait on. */
    private final Object applyLock = new Object();
    private final java.util.ArrayDeque<Journaled> toApply = new java.util.ArrayDeque<>();
    private int rowsToApply;
    private long oldestToApplyAt;
    private boolean applyNow;
    private boolean syncWanted;
    private boolean applierStop;
    /** Column sizes and nullability of audit_entry and usage_month, checked before a row is acknowledged. */
    private Map<String, Column> columns = Map.of();

    /** What one journal frame holds, waiting for the applier. */
    private record Journaled(long lsn, List<Linked> rows, long[] ids) {}

    private record Column(int size, boolean nullable) {}

    /** Rows the applier waits to gather, unless {@link #APPLY_DELAY_NANOS} pass first or a reader asks. */
    private static final int APPLY_ROWS = 2048;
    private static final long APPLY_DELAY_NANOS = 250_000_000L;
    private static final long SYNC_EVERY_NANOS = 1_000_000_000L;

    /**
     * Opens the journal and brings H2 up to it before anything is served: every frame whose records
     * H2 lacks is checked as the chain verifier would (body hash, entry hash, link to the head) and
     * inserted; then H2 is forced and the journal emptied. A damaged journal, or one that does not
     * extend H2's chains, stops the start (fail closed): the log says which frame and chain.
     */
    private void openJournal() {
        java.nio.file.Path db = housekeeping.embeddedPath();
        try {
            columns = columns();
            journal = Journal.open(db.getParent(), db.getFileName() + ".journal", config.journalSize().asLongValue());
            int replayed = replay(journal.read());
            housekeeping.sync();
            journal.clear();
            if (replayed > 0) {
                LOG.infof("audit store: %d journaled records the database lacked were checked and inserted", replayed);
            }
            try (Connection c = dataSource.getConnection();
                    var select = c.prepareStatement("SELECT chain_id, head_seq, head_hash FROM audit_chain");
                    ResultSet r = select.executeQuery()) {
                while (r.next()) {
                    known.put(r.getString(1), new Head(r.getLong(2), r.getString(3)));
                }
            }
        } catch (java.io.IOException | SQLException e) {
            throw new IllegalStateException("the audit journal cannot be used: " + describe(e) + ": " + e.getMessage(), e);
        }
        applier = BackgroundThreads.startLowered("audit-applier", this::applyLoop); // requests go first
    }

    /** Inserts the journaled rows H2 lacks, after checking that they extend its chains. Returns how many. */
    private int replay(List<Journal.Frame> frames) throws java.io.IOException, SQLException {
        if (frames.isEmpty()) {
            return 0;
        }
        Map<String, Head> heads = new HashMap<>();
        try (Connection c = dataSource.getConnection();
                var select = c.prepareStatement("SELECT chain_id, head_seq, head_hash FROM audit_chain");
                ResultSet r = select.executeQuery()) {
            while (r.next()) {
                heads.put(r.getString(1), new Head(r.getLong(2), r.getString(3)));
            }
        }
        List<Linked> rows = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        for (Journal.Frame frame : frames) {
            for (JournalRows.Row row : JournalRows.decode(frame.payload())) {
                String chain = row.draft().chain();
                Head head = heads.getOrDefault(chain, new Head(0, Canonical.GENESIS));
                String problem = row.seq() <= head.seq() ? alreadyStored(row, head) : extending(row, head);
                if (problem != null) {
                    throw new Journal.DamagedException("journal frame " + frame.lsn() + ", chain " + chain + " seq "
                            + row.seq() + ": " + problem);
                }
                if (row.seq() > head.seq()) {
                    heads.put(chain, new Head(row.seq(), row.entryHash()));
                    rows.add(new Linked(new Pending(row.draft(), row.bodySha256(), row.storedBody(), null), row.seq(),
                            row.prevHash(), row.entryHash()));
                    ids.add(row.id());
                }
            }
        }
        if (rows.isEmpty()) {
            return 0;
        }
        store(rows, ids.stream().mapToLong(Long::longValue).toArray());
        // H2's id sequence may have lost the blocks those rows drew (its last moves were not forced).
        long max = ids.stream().mapToLong(Long::longValue).max().orElse(0);
        try (Connection c = dataSource.getConnection(); var s = c.createStatement()) {
            s.execute("ALTER SEQUENCE audit_entry_id_seq RESTART WITH " + (max + ID_BLOCK));
        }
        spareIds.clear();
        return rows.size();
    }

    /** For a row at or below H2's head: null, or why it cannot be the record H2 holds there. */
    private static String alreadyStored(JournalRows.Row row, Head head) {
        return row.seq() == head.seq() && !row.entryHash().equals(head.hash())
                ? "differs from the database's chain head at that seq" : null;
    }

    /** For a row above H2's head: null when it is the next link with intact hashes, else what is wrong. */
    private static String extending(JournalRows.Row row, Head head) {
        if (row.seq() != head.seq() + 1) {
            return "does not follow the head at seq " + head.seq() + " (records missing)";
        }
        if (!row.prevHash().equals(head.hash())) {
            return "previous hash does not match the chain head";
        }
        if (!Canonical.sha256(StoredBody.decodeBytes(row.storedBody())).equals(row.bodySha256())) {
            return "body does not match its hash";
        }
        if (!Canonical.entryHash(row.draft().chain(), row.seq(), row.prevHash(), row.bodySha256()).equals(row.entryHash())) {
            return "entry hash does not match";
        }
        return null;
    }

    /** The journaling writer: link, journal, acknowledge, hand over to the applier. */
    private void runJournaled() {
        while (running || !queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, config.maxBatch() - 1);
                String refusal = journalBroken ? "journal" : spaceRunsOut() ? "disk" : applyFailure != null ? "apply" : null;
                if (refusal != null) {
                    healthy = false;
                    failed(refusal);
                    var refused = new AuditUnavailableException(switch (refusal) {
                        case "disk" -> "the audit store's disk is nearly full";
                        case "journal" -> "the audit journal could not be written";
                        default -> "the audit store is not taking the journaled records";
                    }, applyFailure);
                    batch.forEach(p -> p.done().completeExceptionally(refused));
                    continue;
                }
                journalBatch(admissible(batch));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.io.IOException | RuntimeException e) {
                LOG.errorf("audit batch of %d entries not journaled: %s", batch.size(), describe(e));
                failed("journal");
                var refused = e instanceof AuditUnavailableException u ? u
                        : new AuditUnavailableException("the audit journal could not be written", e);
                batch.forEach(p -> p.done().completeExceptionally(refused));
            }
        }
    }

    /** Links the batch after the chains' heads, journals it, and acknowledges every entry in it. */
    private void journalBatch(List<Pending> batch) throws java.io.IOException, InterruptedException {
        if (batch.isEmpty()) {
            return;
        }
        awaitApplierRoom();
        Map<String, Head> heads = new HashMap<>();
        List<Linked> rows = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            String chain = p.draft().chain();
            Head head = heads.computeIfAbsent(chain, k -> known.getOrDefault(k, new Head(0, Canonical.GENESIS)));
            long seq = head.seq() + 1;
            String hash = Canonical.entryHash(chain, seq, head.hash(), p.bodySha256());
            rows.add(new Linked(p, seq, head.hash(), hash));
            heads.put(chain, new Head(seq, hash));
        }
        long[] ids = journalIds(rows.size());
        List<JournalRows.Row> journaled = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Linked row = rows.get(i);
            journaled.add(new JournalRows.Row(ids[i], row.seq(), row.prevHash(), row.entryHash(),
                    row.pending().bodySha256(), row.pending().storedBody(), row.pending().draft()));
        }
        byte[] payload = JournalRows.encode(journaled);
        if (!journal.fits(payload.length)) {
            awaitForced(journal.lastLsnOfOther());
            journal.rotate();
        }
        long lsn;
        try {
            lsn = journal.append(payload);
        } catch (java.io.IOException e) {
            // After a failed write or fsync the file's state is unknown: acknowledge nothing more.
            journalBroken = true;
            healthy = false;
            throw e;
        }
        known.putAll(heads);
        handOver(new Journaled(lsn, rows, ids));
        healthy = true;
        for (int i = 0; i < rows.size(); i++) {
            Linked row = rows.get(i);
            row.pending().done().complete(new Appended(ids[i], row.pending().draft().chain(), row.seq(), row.entryHash()));
        }
    }

    /**
     * The entries H2 would accept: each column within its size and present where required. The
     * others are refused alone, before anything is acknowledged, since an acknowledged record the
     * database then refused could never be inserted.
     */
    private List<Pending> admissible(List<Pending> batch) {
        List<Pending> ok = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            String problem = inadmissible(p);
            if (problem == null) {
                ok.add(p);
            } else {
                failed("refused");
                p.done().completeExceptionally(new AuditUnavailableException("audit entry refused: " + problem, null));
            }
        }
        return ok;
    }

    private String inadmissible(Pending p) {
        Draft d = p.draft();
        Object[] values = {0L, d.chain(), 0L, d.kind(), d.requestId(), d.recordedAt(), d.tenant(), d.subject(),
            d.username(), d.email(), d.model(), d.region(), d.decision(), d.state(), d.httpStatus(), d.tags(),
            p.storedBody(), p.bodySha256(), Canonical.GENESIS, Canonical.GENESIS, d.content(), d.contentMode(),
            d.contentExpiresAt(), d.metadataExpiresAt()};
        String[] names = COLUMNS.split(", ");
        for (int i = 0; i < names.length; i++) {
            String problem = misfit("audit_entry." + names[i], values[i]);
            if (problem != null) {
                return problem;
            }
        }
        Charge c = d.charge();
        if (c != null) {
            Object[][] charged = {{"tenant", c.tenant()}, {"subject", c.subject()}, {"model", c.model()},
                {"period", c.month().toString()}, {"currency", c.currency()}};
            for (Object[] column : charged) {
                String problem = misfit("usage_month." + column[0], column[1]);
                if (problem != null) {
                    return problem;
                }
            }
        }
        return null;
    }

    private String misfit(String column, Object value) {
        Column limit = columns.get(column);
        if (limit == null) {
            return null;
        }
        if (value == null) {
            return limit.nullable() ? null : column + " is required";
        }
        return value instanceof String text && text.length() > limit.size() ? column + " is too long" : null;
    }

    /** Sizes (of character columns) and nullability of the two tables a batch writes to. */
    private Map<String, Column> columns() throws SQLException {
        Map<String, Column> found = new HashMap<>();
        try (Connection c = dataSource.getConnection()) {
            for (String table : List.of("audit_entry", "usage_month")) {
                try (ResultSet r = c.getMetaData().getColumns(null, null, table.toUpperCase(java.util.Locale.ROOT), null)) {
                    while (r.next()) {
                        int type = r.getInt("DATA_TYPE");
                        boolean text = type == Types.VARCHAR || type == Types.CHAR || type == Types.NVARCHAR;
                        found.put(table + "." + r.getString("COLUMN_NAME").toLowerCase(java.util.Locale.ROOT),
                                new Column(text ? r.getInt("COLUMN_SIZE") : Integer.MAX_VALUE,
                                        r.getInt("NULLABLE") != java.sql.DatabaseMetaData.columnNoNulls));
                    }
                }
            }
        }
        return found;
    }

    /**
     * {@code n} entry ids for the journaling writer. Blocks are drawn {@link #JOURNAL_ID_BLOCKS} at a
     * time in one H2 transaction: each commit there writes a chunk of H2's file on the writer's path.
     */
    private long[] journalIds(int n) {
        if (spareIds.size() < n) {
            int blocks = Math.max(JOURNAL_ID_BLOCKS, (n - spareIds.size() + ID_BLOCK - 1) / ID_BLOCK);
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                try (var select = c.prepareStatement("SELECT NEXT VALUE FOR audit_entry_id_seq")) {
                    for (int b = 0; b < blocks; b++) {
                        try (ResultSet r = select.executeQuery()) {
                            r.next();
                            long last = r.getLong(1);
                            for (long id = Math.max(1, last - ID_BLOCK + 1); id <= last; id++) {
                                spareIds.add(id);
                            }
                        }
                    }
                    c.commit();
                } finally {
                    c.setAutoCommit(true);
                }
            } catch (SQLException e) {
                throw new StoreException(e);
            }
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = spareIds.removeFirst();
        }
        return ids;
    }

    private static final int JOURNAL_ID_BLOCKS = 20;

    /** Gives a journaled frame to the applier; from here on a reader's barrier waits for it. */
    private void handOver(Journaled frame) {
        synchronized (applyLock) {
            if (toApply.isEmpty()) {
                oldestToApplyAt = System.nanoTime();
                applyLock.notifyAll(); // the applier learns when this one is due
            }
            toApply.add(frame);
            rowsToApply += frame.rows().size();
            ackedLsn = frame.lsn();
            if (rowsToApply >= APPLY_ROWS) {
                applyLock.notifyAll();
            }
        }
    }

    /** Acknowledged records not yet in H2 are held in memory: beyond this many the writer waits for the applier. */
    private static final int MAX_UNAPPLIED = 16_384;

    private void awaitApplierRoom() throws InterruptedException {
        long deadline = System.nanoTime() + config.commitTimeout().toNanos();
        synchronized (applyLock) {
            while (rowsToApply >= MAX_UNAPPLIED) {
                applyNow = true;
                applyLock.notifyAll();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AuditUnavailableException("the audit store is too far behind its journal", applyFailure);
                }
                TimeUnit.NANOSECONDS.timedWait(applyLock, left);
            }
        }
    }

    /** Waits until H2 has been forced with every record up to {@code lsn} in it. */
    private void awaitForced(long lsn) throws InterruptedException {
        if (lsn == 0) {
            return;
        }
        long deadline = System.nanoTime() + config.commitTimeout().toNanos();
        synchronized (applyLock) {
            while (forcedLsn < lsn) {
                applyNow = true;
                syncWanted = true;
                applyLock.notifyAll();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AuditUnavailableException("the audit store was not forced in time to reuse a journal file",
                            applyFailure);
                }
                TimeUnit.NANOSECONDS.timedWait(applyLock, left);
            }
        }
    }

    /**
     * Returns once every record acknowledged so far can be read from the database. Whoever reads
     * the audit tables calls it first (queries, exports, the checkpoint signer, the verifier,
     * retention, the usage ledger): on the embedded store a record is durable in the journal
     * before it is in H2, and readers must never miss an acknowledged record. Immediate when
     * nothing waits to be inserted, and on PostgreSQL. Throws {@link AuditUnavailableException}
     * when the records are not inserted within the commit timeout.
     */
    public void awaitStored() {
        if (journal == null) {
            return;
        }
        long target = ackedLsn;
        if (appliedLsn >= target) {
            return;
        }
        long deadline = System.nanoTime() + config.commitTimeout().toNanos();
        synchronized (applyLock) {
            applyNow = true;
            applyLock.notifyAll();
            while (appliedLsn < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AuditUnavailableException("the audit store is behind its journal", applyFailure);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(applyLock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AuditUnavailableException("interrupted while waiting for the audit store", e);
                }
            }
        }
    }

    /**
     * The applier: inserts journaled frames into H2, {@link #APPLY_ROWS} rows or
     * {@link #APPLY_DELAY_NANOS} at a time, or at once when a reader or the journal asks; forces H2
     * after each transaction and every second it changed; compacts as the writer did.
     */
    private void applyLoop() {
        long lastSync = System.nanoTime();
        long lastApply = lastSync;
        while (true) {
            if (unforced && !forced()) {
                sleepQuietly(); // no transaction before H2 has been forced again
                continue;
            }
            List<Journaled> work = new ArrayList<>();
            boolean sync;
            boolean stop;
            synchronized (applyLock) {
                while (true) {
                    long now = System.nanoTime();
                    boolean due = !toApply.isEmpty() && (applyNow || applierStop || rowsToApply >= APPLY_ROWS
                            || now - oldestToApplyAt >= APPLY_DELAY_NANOS);
                    if (due || syncWanted || applierStop || now - lastSync >= SYNC_EVERY_NANOS) {
                        break;
                    }
                    long wait = SYNC_EVERY_NANOS - (now - lastSync);
                    if (!toApply.isEmpty()) {
                        wait = Math.min(wait, APPLY_DELAY_NANOS - (now - oldestToApplyAt));
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(applyLock, Math.max(wait, 100_000L));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                long now = System.nanoTime();
                if (!toApply.isEmpty() && (applyNow || applierStop || rowsToApply >= APPLY_ROWS
                        || now - oldestToApplyAt >= APPLY_DELAY_NANOS || syncWanted)) {
                    work.addAll(toApply);
                    toApply.clear();
                    rowsToApply = 0;
                    applyNow = false;
                }
                // H2 is forced after every transaction of the applier's, before its next one: H2
                // writes over chunks it no longer uses at once, so a chunk the last forced state
                // still used must not be overwritten by a commit that is not forced yet. Every
                // second as well, for the commits of others (the readiness probe's).
                sync = !work.isEmpty() || syncWanted || now - lastSync >= SYNC_EVERY_NANOS || applierStop;
                syncWanted = false;
                stop = applierStop && toApply.isEmpty();
            }
            if (!work.isEmpty() && !apply(work)) {
                if (stop) {
                    return;
                }
                sleepQuietly();
                continue;
            }
            if (!work.isEmpty()) {
                lastApply = System.nanoTime();
            }
            if (sync) {
                forced();
                lastSync = System.nanoTime();
            }
            if (stop) {
                return;
            }
            if (sinceStep >= STEP_EVERY_RECORDS) {
                sinceStep = 0;
                try {
                    housekeeping.step();
                    housekeeping.sync(); // before the next transaction, as above
                } catch (RuntimeException e) {
                    LOG.warnf("audit store compaction step failed: %s", describe(e));
                }
            }
            if (work.isEmpty() && !compacted && System.nanoTime() - lastApply > IDLE_NANOS) {
                whileIdleJournaled();
            }
        }
    }

    /** Set while H2 could not be forced: requests are refused and nothing is inserted until it can. */
    private boolean unforced;

    /** Forces H2; true when it could, and everything applied before is then forced. */
    private boolean forced() {
        long applied = appliedLsn;
        try {
            housekeeping.sync();
        } catch (RuntimeException e) {
            if (!unforced) {
                LOG.errorf("audit store not forced to disk: %s", describe(e));
            }
            unforced = true;
            applyFailure = e;
            healthy = false;
            failed("sync");
            return false;
        }
        if (unforced) {
            unforced = false;
            applyFailure = null;
        }
        synchronized (applyLock) {
            forcedLsn = applied;
            applyLock.notifyAll();
        }
        return true;
    }

    /** Inserts the frames in one transaction; true when it committed (else they wait to be retried). */
    private boolean apply(List<Journaled> work) {
        List<Linked> rows = new ArrayList<>();
        int count = 0;
        for (Journaled j : work) {
            count += j.rows().size();
        }
        long[] ids = new long[count];
        int at = 0;
        for (Journaled j : work) {
            rows.addAll(j.rows());
            System.arraycopy(j.ids(), 0, ids, at, j.ids().length);
            at += j.ids().length;
        }
        try {
            store(rows, ids);
        } catch (RuntimeException e) {
            if (applyFailure == null) {
                LOG.errorf("audit store: %d journaled records not inserted yet: %s", rows.size(), describe(e));
            }
            applyFailure = e;
            healthy = false;
            failed("apply");
            synchronized (applyLock) {
                for (int i = work.size() - 1; i >= 0; i--) {
                    toApply.addFirst(work.get(i));
                }
                rowsToApply += rows.size();
                if (toApply.size() == work.size()) {
                    oldestToApplyAt = System.nanoTime();
                }
            }
            return false;
        }
        if (applyFailure != null) {
            LOG.info("audit store: journaled records are being inserted again");
            applyFailure = null;
        }
        compacted = false;
        synchronized (applyLock) {
            appliedLsn = work.getLast().lsn();
            applyLock.notifyAll();
        }
        sinceStep += rows.size();
        return true;
    }

    private void whileIdleJournaled() {
        compacted = true;
        try {
            housekeeping.compact(500);
            housekeeping.sync();
        } catch (RuntimeException e) {
            LOG.warnf("audit store compaction failed: %s", describe(e));
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Inserts linked rows that already have their ids, moving each chain's head from the row before
     * the first to the last, in one transaction with their charges. A head that is not where the
     * rows start means the database changed under the journal: nothing is written.
     */
    private void store(List<Linked> rows, long[] ids) {
        inTransaction(c -> {
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            Map<String, Linked> firsts = new java.util.LinkedHashMap<>();
            Map<String, Linked> lasts = new HashMap<>();
            for (Linked row : rows) {
                firsts.putIfAbsent(row.pending().draft().chain(), row);
                lasts.put(row.pending().draft().chain(), row);
            }
            for (var first : firsts.entrySet()) {
                String chain = first.getKey();
                Linked last = lasts.get(chain);
                Head from = new Head(first.getValue().seq() - 1, first.getValue().prevHash());
                Head to = new Head(last.seq(), last.entryHash());
                if (moveHead(c, chain, from, to, now) != 1) {
                    if (from.seq() != 0 || lockHead(c, chain) != null) {
                        throw new IllegalStateException("a chain head in the database is not where the journal left it");
                    }
                    createHead(c, chain, to, now);
                }
            }
            insert(c, rows, ids);
            charge(c, rows);
            return null;
        });
    }

    /** At shutdown, once the writer has left: the applier inserts and forces the rest; the journal is emptied. */
    private void closeJournal() throws InterruptedException {
        synchronized (applyLock) {
            applierStop = true;
            applyLock.notifyAll();
        }
        if (applier != null) {
            applier.join(10_000);
        }
        try {
            if ((applier == null || !applier.isAlive()) && forcedLsn >= ackedLsn && !journalBroken) {
                journal.clear();
            }
            journal.close();
        } catch (java.io.IOException e) {
            LOG.warnf("audit journal not emptied at shutdown (it is replayed at the next start): %s", describe(e));
        }
    }
}
