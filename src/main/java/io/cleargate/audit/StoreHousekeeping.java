package io.cleargate.audit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.h2.mvstore.MVStore;
import org.jboss.logging.Logger;

/**
 * What the audit store needs beyond SQL to be durable and to give space back.
 *
 * <p>Embedded H2 file ({@code jdbc:h2:file:}): H2 writes a commit to its file but never forces it
 * to the disk. Records are made durable by the writer's journal ({@link Journal}) before any caller
 * is told; the writer's applier inserts them into H2 in transactions of many records and calls
 * {@link #sync()} after each, before its next one. H2 writes each commit
 * as a new chunk of copy-on-write pages and, with the default settings, keeps the chunks it freed
 * for 45 s (in case the OS had not yet written the newer ones) and rewrites half-empty ones only
 * from a background thread that {@code WRITE_DELAY=0} turns off: a gateway at a few hundred
 * requests a second grew its file by 40 KB per request and gave nothing back. Since every
 * transaction of the writer's is forced before the next, freed chunks are reused at once (retention
 * 0, as H2's own compaction does), and {@link #step()} rewrites a bounded amount of half-empty chunks so they free up: every few
 * hundred records under load, and until none is left once the writer is idle and after a retention purge.
 * The file does not shrink while open (H2 moves chunks and cuts the file only at close); the space
 * inside it is reused.
 *
 * <p>At shutdown, {@link #compactAtClose()} has H2 copy the live pages into a new file and put it in
 * place of the old one when it closes the store. H2's ordinary close moves chunks for 200 ms, and
 * only while it still finds chunks to rewrite: a store of more than a few thousand requests came out
 * of it as large as it went in, or larger (a file of 298 MB holding 96 MB of data after 62,000
 * requests).
 *
 * <p>PostgreSQL: its write-ahead log is forced at commit (group commit across sessions included);
 * a retention purge is followed by VACUUM so the purged space is reused.
 */
@ApplicationScoped
public class StoreHousekeeping {

    private static final Logger LOG = Logger.getLogger(StoreHousekeeping.class);
    private static final String H2_FILE = "jdbc:h2:file:";
    private static final String POSTGRES = "jdbc:postgresql:";
    /** Chunks less full than this are rewritten. */
    private static final int FILL_RATE = 90;
    /** At most this much is rewritten (and moved) per step under load: a few milliseconds of work. */
    private static final int STEP_BYTES = 1 << 20;

    /** The writer takes a {@link #step()} every this many records: a step rewrites about what they left half-empty, so its cost per record is fixed, whatever the rate. */
    static final int STEP_EVERY_RECORDS = 256;
    /** Idle this long, the writer compacts what the last burst left behind. */
    static final long IDLE_NANOS = 1_000_000_000L;

    /** Free space, beyond the store's reserve, a step needs: it writes before it frees, and H2 must never meet a full disk. */
    private static final long STEP_ROOM = 8L << 20;

    private final DataSource dataSource;
    private final Optional<String> jdbcUrl;
    private final StoreDisk disk;
    private MVStore h2;
    private org.h2.engine.Database database;
    private boolean h2Looked;

    @Inject
    public StoreHousekeeping(DataSource dataSource,
            @ConfigProperty(name = "quarkus.datasource.jdbc.url") Optional<String> jdbcUrl, AuditConfig config) {
        this(dataSource, jdbcUrl, config.minFreeSpace().asLongValue());
    }

    StoreHousekeeping(DataSource dataSource, Optional<String> jdbcUrl, long reserve) {
        this.dataSource = dataSource;
        this.jdbcUrl = jdbcUrl;
        this.disk = StoreDisk.of(jdbcUrl, reserve);
    }

    boolean embeddedFile() {
        return jdbcUrl.map(u -> u.startsWith(H2_FILE)).orElse(false);
    }

    /** The embedded database's file name without H2's suffix ({@code .../db/cleargate}); only for an H2 file. */
    java.nio.file.Path embeddedPath() {
        String file = jdbcUrl.orElseThrow().substring(H2_FILE.length());
        int options = file.indexOf(';');
        return java.nio.file.Path.of(options < 0 ? file : file.substring(0, options)).toAbsolutePath();
    }


    /** The embedded store, found once through a pooled connection; null for any other database. */
    private synchronized MVStore h2() {
        if (!h2Looked && embeddedFile()) {
            try (Connection c = dataSource.getConnection()) {
                var session = (org.h2.engine.SessionLocal) c.unwrap(org.h2.jdbc.JdbcConnection.class).getSession();
                database = session.getDatabase();
                h2 = database.getStore().getMvStore();
                h2.setRetentionTime(0);
            } catch (SQLException | RuntimeException e) {
                throw new IllegalStateException("cannot reach the embedded audit store: " + AuditWriter.describe(e), e);
            }
            h2Looked = true;
        }
        return h2;
    }

    /** Forces what has been committed to the disk (H2 file); nothing elsewhere. Throws when it cannot. */
    void sync() {
        MVStore store = h2();
        if (store != null) {
            long version = store.getCurrentVersion();
            if (version != syncedVersion) {
                store.sync();
                syncedVersion = version;
            }
        }
    }

    /** H2's version as of the last force: nothing committed since, nothing to force. */
    private volatile long syncedVersion = -1;

    /**
     * One bounded step (H2 file): rewrites the live pages of up to {@link #STEP_BYTES} of chunks
     * that are less than {@link #FILL_RATE}% live, so the chunks they leave empty are reused by the
     * next commits. Called by the writer between batches, so it never waits for the writer's own
     * commits. Chunks are never moved and the file never cut here: H2's chunk move (also behind
     * {@code MVStore.compactFile}) trips its own free-space assertions on a store in use (seen with
     * assertions on, the store then closes), so only H2's close moves chunks.
     */
    void step() {
        rewrite(STEP_BYTES, 0);
    }

    /**
     * The steps {@code records} records call for taken at once, at most {@link #MAX_STEPS} of
     * them: for the journal's applier, whose rounds hold a few thousand records (a step per
     * round keeps compaction per record as it was when rounds held a few hundred).
     */
    void step(int records) {
        int steps = Math.clamp((records + STEP_EVERY_RECORDS - 1) / STEP_EVERY_RECORDS, 1, MAX_STEPS);
        rewrite(steps * STEP_BYTES, 0);
    }

    /** The most steps taken at once: those of a full round of the applier's. */
    static final int MAX_STEPS = 8;

    /** Rewrites until nothing is left below the fill rate or {@code maxMillis} have passed (H2 file). */
    void compact(int maxMillis) {
        rewrite(STEP_BYTES, maxMillis);
    }

    private void rewrite(int bytes, int maxMillis) {
        MVStore store = h2();
        if (store == null || store.isClosed() || !disk.roomFor(STEP_ROOM)) {
            return;
        }
        long until = System.nanoTime() + maxMillis * 1_000_000L;
        while (store.compact(FILL_RATE, bytes) && System.nanoTime() < until) {
            store.commit();
        }
    }

    /**
     * Live data up to this much is copied into a fresh file at shutdown: about 3 s per 100 MB on the
     * shared 2-core test machine, so well inside the 30 s a container gets to stop.
     */
    static final long CLOSE_COMPACT_MAX_LIVE = 256L << 20;

    /**
     * Has H2 close the embedded store with a full compaction, as {@code SHUTDOWN COMPACT} would: when
     * the last connection closes (the pool's, at the very end of shutdown) H2 copies the live pages
     * into a temporary file, forces it to disk and renames it over the store, so a crash on the way
     * leaves the old file whole. Called at shutdown once nothing writes any more. Skipped, leaving H2's
     * ordinary close, when the live data is larger than {@link #CLOSE_COMPACT_MAX_LIVE} or its copy
     * would eat into the disk's reserve. True when the close will compact.
     */
    boolean compactAtClose() {
        MVStore store = h2();
        if (store == null || store.isClosed()) {
            return false;
        }
        var file = store.getFileStore();
        long size = file.size();
        long live = size * file.getFillRate() / 100 * file.getChunksFillRate() / 100;
        if (live > CLOSE_COMPACT_MAX_LIVE || !disk.roomFor(live + STEP_ROOM)) {
            LOG.infof("audit store not compacted at shutdown: about %d MB of data in a %d MB file", live >> 20, size >> 20);
            return false;
        }
        database.setCompactMode(org.h2.command.CommandInterface.SHUTDOWN_COMPACT);
        return true;
    }

    /** After a retention purge: the space it freed becomes reusable (PostgreSQL VACUUM, H2 compaction). */
    void afterPurge() {
        try {
            if (jdbcUrl.map(u -> u.startsWith(POSTGRES)).orElse(false)) {
                // VACUUM cannot run inside a transaction: a pooled connection outside one is in autocommit.
                try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                    s.execute("VACUUM audit_entry");
                }
            } else {
                compact(2_000);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warnf("audit store: space freed by the purge not reclaimed yet: %s", AuditWriter.describe(e));
        }
    }
}
