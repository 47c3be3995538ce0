package io.cleargate.audit;

import io.cleargate.audit.ChainRows.Head;
import io.cleargate.audit.ChainRows.Linked;
import io.cleargate.audit.ChainRows.Pending;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * The embedded H2 file's commit path: H2 never forces its file, and forcing it per batch cost more
 * than the batch. So every batch is made durable by one forced append to {@link Journal} and
 * acknowledged then; a {@link JournalApplier} inserts what was journaled into H2 behind it. At
 * start the journal is replayed: frames whose records H2 lacks are checked as the chain verifier
 * would and inserted before anything is served.
 *
 * <p>The writer thread links, journals and acknowledges; the applier thread inserts and forces H2;
 * readers wait on {@link #awaitStored()}. The journal always holds whatever H2 may lack: the writer
 * moves to the other journal file only once every record in it is in H2 and H2 has been forced.
 */
final class JournaledCommit implements CommitPath {

    private static final Logger LOG = Logger.getLogger(JournaledCommit.class);

    private final DataSource dataSource;
    private final StoreHealth health;
    private final StoreHousekeeping housekeeping;
    private final JournalApplier applier;
    private final Journal journal;
    /**
     * Column sizes and nullability, checked before a row is acknowledged: audit_entry's in the order
     * of {@link ChainRows#COLUMNS}, usage_month's in the order of {@link #CHARGED}; null where the
     * table has no such column. Resolved once: a record checks 24 columns, and looking each up by
     * a name built per record was a third of what the writer thread allocated.
     */
    private final Column[] entryLimits;
    private final Column[] chargeLimits;
    /** Chain heads as of the last frame journaled (writer thread only). */
    private final Map<String, Head> known;
    private final ChainRows.SpareIds spareIds = new ChainRows.SpareIds();
    /** The buffer each batch's journal frame is encoded into (writer thread only). */
    private final JournalRows.FrameEncoder frames = new JournalRows.FrameEncoder();
    /** Set once a journal write or force failed: nothing more is acknowledged until a restart. */
    private volatile boolean journalBroken;

    private record Column(String name, int size, boolean nullable) {}

    /** audit_entry's columns in the order {@link ChainRows#COLUMNS} lists them. */
    private static final String[] ENTRY_COLUMNS = ChainRows.COLUMNS.split(", ");
    /** The usage_month columns a charge fills from its text values, in the order {@link #inadmissible} checks them. */
    private static final String[] CHARGED = {"tenant", "subject", "model", "period", "currency"};

    /** Id blocks the writer draws at once: each H2 commit writes a chunk of H2's file on the writer's path. */
    private static final int JOURNAL_ID_BLOCKS = 20;

    private JournaledCommit(DataSource dataSource, StoreHealth health, StoreHousekeeping housekeeping,
            JournalApplier applier, Journal journal, Map<String, Column> columns, Map<String, Head> known) {
        this.dataSource = dataSource;
        this.health = health;
        this.housekeeping = housekeeping;
        this.applier = applier;
        this.journal = journal;
        this.entryLimits = limits(columns, "audit_entry", ENTRY_COLUMNS);
        this.chargeLimits = limits(columns, "usage_month", CHARGED);
        this.known = known;
    }

    /**
     * Opens the journal and brings H2 up to it before anything is served: every frame whose records
     * H2 lacks is checked as the chain verifier would (body hash, entry hash, link to the head) and
     * inserted; then H2 is forced and the journal emptied. A damaged journal, or one that does not
     * extend H2's chains, stops the start (fail closed): the log says which frame and chain.
     */
    static JournaledCommit open(DataSource dataSource, AuditConfig config, StoreHealth health,
            StoreHousekeeping housekeeping, Iterable<ChargeSink> chargeSinks) {
        java.nio.file.Path db = housekeeping.embeddedPath();
        long journalSize = config.journalSize().asLongValue();
        var applier = new JournalApplier(dataSource, health, housekeeping, chargeSinks, config.commitTimeout(),
                journalSize);
        Journal journal = null;
        try {
            Map<String, Column> columns = columns(dataSource);
            journal = Journal.open(db.getParent(), db.getFileName() + ".journal", journalSize);
            int replayed = replay(dataSource, applier, journal.read());
            housekeeping.sync();
            journal.clear();
            if (replayed > 0) {
                LOG.infof("audit store: %d journaled records the database lacked were checked and inserted", replayed);
            }
            var path = new JournaledCommit(dataSource, health, housekeeping, applier, journal, columns,
                    ChainRows.heads(dataSource));
            applier.start();
            return path;
        } catch (IOException | SQLException e) {
            closeQuietly(journal); // not emptied: a journal that could not be replayed is kept as it is
            throw new IllegalStateException("the audit journal cannot be used: " + AuditWriter.describe(e) + ": "
                    + e.getMessage(), e);
        }
    }

    private static void closeQuietly(Journal journal) {
        if (journal != null) {
            try {
                journal.close();
            } catch (IOException ignored) {
                // the start fails anyway; the file is left as it is
            }
        }
    }

    /** Inserts the journaled rows H2 lacks, after checking that they extend its chains. Returns how many. */
    private static int replay(DataSource dataSource, JournalApplier applier, List<Journal.Frame> frames)
            throws IOException, SQLException {
        if (frames.isEmpty()) {
            return 0;
        }
        Map<String, Head> heads = ChainRows.heads(dataSource);
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
        applier.store(rows, ids.stream().mapToLong(Long::longValue).toArray());
        // H2's id sequence may have lost the blocks those rows drew (its last moves were not forced).
        long max = ids.stream().mapToLong(Long::longValue).max().orElse(0);
        try (Connection c = dataSource.getConnection(); var s = c.createStatement()) {
            s.execute("ALTER SEQUENCE audit_entry_id_seq RESTART WITH " + (max + ChainRows.ID_BLOCK));
        }
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

    /** Link, journal, acknowledge, hand over to the applier; or refuse the whole batch. */
    @Override
    public void commit(List<Pending> batch) throws InterruptedException {
        try {
            RuntimeException applyFailure = applier.failure();
            String refusal = journalBroken ? "journal" : health.spaceRunsOut() ? "disk" : applyFailure != null ? "apply" : null;
            if (refusal != null) {
                health.set(false);
                health.failed(refusal);
                var refused = new AuditUnavailableException(switch (refusal) {
                    case "disk" -> "the audit store's disk is nearly full";
                    case "journal" -> "the audit journal could not be written";
                    default -> "the audit store is not taking the journaled records";
                }, applyFailure);
                batch.forEach(p -> p.done().completeExceptionally(refused));
                return;
            }
            journalBatch(admissible(batch));
        } catch (IOException | RuntimeException e) {
            LOG.errorf("audit batch of %d entries not journaled: %s", batch.size(), AuditWriter.describe(e));
            health.failed("journal");
            var refused = e instanceof AuditUnavailableException u ? u
                    : new AuditUnavailableException("the audit journal could not be written", e);
            batch.forEach(p -> p.done().completeExceptionally(refused));
        }
    }

    /** The applier compacts H2 once it is idle: nothing for the writer to do. */
    @Override
    public void idle() {}

    /** The database writes, but the journal must too, and the applier keep up. */
    @Override
    public boolean working() {
        return !journalBroken && applier.failure() == null;
    }

    /** The applier inserted records into H2 and forced it within the last {@code nanos}. */
    @Override
    public boolean wroteWithin(long nanos) {
        return applier.forcedWithin(nanos);
    }

    @Override
    public void awaitStored() {
        applier.awaitStored();
    }

    /** At shutdown, once the writer has left: the applier inserts and forces the rest; the journal is emptied. */
    @Override
    public void close() throws InterruptedException {
        boolean allForced = applier.stop();
        try {
            if (allForced && !journalBroken) {
                journal.clear();
            }
            journal.close();
        } catch (IOException e) {
            LOG.warnf("audit journal not emptied at shutdown (it is replayed at the next start): %s",
                    AuditWriter.describe(e));
        }
    }

    /** Links the batch after the chains' heads, journals it, and acknowledges every entry in it. */
    private void journalBatch(List<Pending> batch) throws IOException, InterruptedException {
        if (batch.isEmpty()) {
            return;
        }
        applier.awaitRoom();
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
        long[] ids = ids(rows.size());
        List<JournalRows.Row> journaled = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Linked row = rows.get(i);
            journaled.add(new JournalRows.Row(ids[i], row.seq(), row.prevHash(), row.entryHash(),
                    row.pending().bodySha256(), row.pending().storedBody(), row.pending().draft()));
        }
        frames.encode(journaled);
        if (!journal.fits(frames.payloadLength())) {
            applier.awaitForced(journal.lastLsnOfOther());
            journal.rotate();
        }
        long lsn;
        try {
            lsn = journal.append(frames.frame(), frames.payloadLength());
        } catch (IOException e) {
            // After a failed write or fsync the file's state is unknown: acknowledge nothing more.
            journalBroken = true;
            health.set(false);
            throw e;
        }
        known.putAll(heads);
        applier.handOver(new JournalApplier.Journaled(lsn, rows, ids, Journal.HEADER + frames.payloadLength()));
        health.set(true);
        for (int i = 0; i < rows.size(); i++) {
            rows.get(i).pending().done().complete(rows.get(i).appended(ids[i]));
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
                health.failed("refused");
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
        for (int i = 0; i < values.length; i++) {
            String problem = misfit(entryLimits[i], values[i]);
            if (problem != null) {
                return problem;
            }
        }
        Charge c = d.charge();
        if (c != null) {
            Object[] charged = {c.tenant(), c.subject(), c.model(), c.month().toString(), c.currency()};
            for (int i = 0; i < charged.length; i++) {
                String problem = misfit(chargeLimits[i], charged[i]);
                if (problem != null) {
                    return problem;
                }
            }
        }
        return null;
    }

    private static String misfit(Column limit, Object value) {
        if (limit == null) {
            return null;
        }
        if (value == null) {
            return limit.nullable() ? null : limit.name() + " is required";
        }
        return value instanceof String text && text.length() > limit.size() ? limit.name() + " is too long" : null;
    }

    /** The limits of {@code table}'s {@code names}, in their order; null for a name the table lacks. */
    private static Column[] limits(Map<String, Column> columns, String table, String[] names) {
        Column[] limits = new Column[names.length];
        for (int i = 0; i < names.length; i++) {
            limits[i] = columns.get(table + "." + names[i]);
        }
        return limits;
    }

    /** Sizes (of character columns) and nullability of the two tables a batch writes to. */
    private static Map<String, Column> columns(DataSource dataSource) throws SQLException {
        Map<String, Column> found = new HashMap<>();
        try (Connection c = dataSource.getConnection()) {
            for (String table : List.of("audit_entry", "usage_month")) {
                try (ResultSet r = c.getMetaData().getColumns(null, null, table.toUpperCase(java.util.Locale.ROOT), null)) {
                    while (r.next()) {
                        int type = r.getInt("DATA_TYPE");
                        boolean text = type == Types.VARCHAR || type == Types.CHAR || type == Types.NVARCHAR;
                        String name = table + "." + r.getString("COLUMN_NAME").toLowerCase(java.util.Locale.ROOT);
                        found.put(name, new Column(name, text ? r.getInt("COLUMN_SIZE") : Integer.MAX_VALUE,
                                        r.getInt("NULLABLE") != java.sql.DatabaseMetaData.columnNoNulls));
                    }
                }
            }
        }
        return found;
    }

    /**
     * {@code n} entry ids. Blocks are drawn {@link #JOURNAL_ID_BLOCKS} at a time in one H2
     * transaction: each commit there writes a chunk of H2's file on the writer's path.
     */
    private long[] ids(int n) {
        if (spareIds.size() < n) {
            int blocks = Math.max(JOURNAL_ID_BLOCKS, spareIds.blocksFor(n));
            ChainRows.inTransaction(dataSource, c -> {
                try (var select = c.prepareStatement("SELECT NEXT VALUE FOR audit_entry_id_seq")) {
                    for (int b = 0; b < blocks; b++) {
                        try (ResultSet r = select.executeQuery()) {
                            r.next();
                            spareIds.addBlock(r.getLong(1));
                        }
                    }
                }
                return null;
            });
        }
        return spareIds.take(n);
    }
}
