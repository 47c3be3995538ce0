package io.cleargate.audit;

import io.cleargate.audit.ChainRows.Head;
import io.cleargate.audit.ChainRows.Linked;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * The second half of {@link JournaledCommit}: a thread that inserts what was journaled into H2 in
 * larger transactions and forces H2 after each, off the requests' path; and the barriers that wait
 * for it (a reader's {@link #awaitStored()}, the writer's {@link #awaitRoom()} and
 * {@link #awaitForced(long)}). Frames are handed over in journal order, each with its lsn; the
 * applier keeps three marks: acknowledged, inserted, and inserted with H2 forced since.
 */
final class JournalApplier {

    private static final Logger LOG = Logger.getLogger(JournalApplier.class);

    /** What one journal frame holds, waiting for the applier, and the bytes it takes in the journal. */
    record Journaled(long lsn, List<Linked> rows, long[] ids, int bytes) {}

    /**
     * Rows the applier waits to gather for a round, unless {@link #APPLY_DELAY_NANOS} pass first,
     * half a journal file is waiting, or someone asks. Each round ends with a force of H2's file,
     * and on one disk every such force holds up the requests' own journal flushes queued behind
     * it (speed.md section 47): at low load the applier therefore gathers for seconds, not a
     * quarter of one, and forces H2 a few times a minute instead of several times a second.
     */
    static final int APPLY_ROWS = 2048;
    static final long APPLY_DELAY_NANOS = 2_000_000_000L;
    private static final long SYNC_EVERY_NANOS = 1_000_000_000L;
    /** Acknowledged records not yet in H2 are held in memory: beyond this many the writer waits for the applier. */
    private static final int MAX_UNAPPLIED = 16_384;

    private final DataSource dataSource;
    private final StoreHealth health;
    private final StoreHousekeeping housekeeping;
    private final Iterable<ChargeSink> chargeSinks;
    private final Duration commitTimeout;
    /**
     * Journal bytes waiting that make a round due: half a journal file, so the file the writer
     * leaves is in H2 and forced before the one it moves to fills, and it never waits to rotate.
     */
    private final long applyBytes;

    /** The applier's last failure, while it lasts (null once a transaction succeeds again). */
    private volatile RuntimeException failure;
    private Thread thread;
    /** Largest lsn acknowledged, inserted into H2, and inserted with H2 forced since. */
    private volatile long ackedLsn;
    private volatile long appliedLsn;
    private volatile long forcedLsn;
    /** When records last went into H2 and H2 was forced after them (System.nanoTime); 0 before. */
    private volatile long writtenAt;
    /** Guards the fields below and is the monitor the applier and the barriers wait on. */
    private final Object lock = new Object();
    private final ArrayDeque<Journaled> toApply = new ArrayDeque<>();
    private int rowsToApply;
    private long bytesToApply;
    private long oldestToApplyAt;
    private boolean applyNow;
    private boolean syncWanted;
    private boolean stopping;

    /** Applier thread only: H2 could not be forced; records inserted since the last step; compacted since. */
    private boolean unforced;
    private int sinceStep;
    private boolean compacted = true;

    JournalApplier(DataSource dataSource, StoreHealth health, StoreHousekeeping housekeeping,
            Iterable<ChargeSink> chargeSinks, Duration commitTimeout, long journalFileBytes) {
        this.dataSource = dataSource;
        this.health = health;
        this.housekeeping = housekeeping;
        this.chargeSinks = chargeSinks;
        this.commitTimeout = commitTimeout;
        this.applyBytes = journalFileBytes / 2;
    }

    /**
     * Whether what waits for the applier makes a round due by itself (readers, the writer and
     * shutdown can also ask for one): enough rows, half a journal file, or the oldest waiting
     * for {@link #APPLY_DELAY_NANOS}.
     */
    static boolean roundDue(int rows, long bytes, long waitedNanos, long applyBytes) {
        return rows >= APPLY_ROWS || bytes >= applyBytes || waitedNanos >= APPLY_DELAY_NANOS;
    }

    void start() {
        thread = BackgroundThreads.startLowered("audit-applier", this::run); // requests go first
    }

    /** The last insert or force that failed, while it lasts; null while the applier keeps up. */
    RuntimeException failure() {
        return failure;
    }

    /** True when records went into H2, and H2 was forced after them, within the last {@code nanos}. */
    boolean forcedWithin(long nanos) {
        long at = writtenAt;
        return at != 0 && System.nanoTime() - at < nanos && failure == null;
    }

    /** Gives a journaled frame to the applier; from here on a reader's barrier waits for it. */
    void handOver(Journaled frame) {
        synchronized (lock) {
            if (toApply.isEmpty()) {
                oldestToApplyAt = System.nanoTime();
                lock.notifyAll(); // the applier learns when this one is due
            }
            toApply.add(frame);
            rowsToApply += frame.rows().size();
            bytesToApply += frame.bytes();
            ackedLsn = frame.lsn();
            if (roundDue(rowsToApply, bytesToApply, 0, applyBytes)) {
                lock.notifyAll();
            }
        }
    }

    /** The writer waits while too many acknowledged records are not in H2 yet. */
    void awaitRoom() throws InterruptedException {
        long deadline = System.nanoTime() + commitTimeout.toNanos();
        synchronized (lock) {
            while (rowsToApply >= MAX_UNAPPLIED) {
                applyNow = true;
                lock.notifyAll();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AuditUnavailableException("the audit store is too far behind its journal", failure);
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** Waits until H2 has been forced with every record up to {@code lsn} in it. */
    void awaitForced(long lsn) throws InterruptedException {
        if (lsn == 0) {
            return;
        }
        long deadline = System.nanoTime() + commitTimeout.toNanos();
        synchronized (lock) {
            while (forcedLsn < lsn) {
                applyNow = true;
                syncWanted = true;
                lock.notifyAll();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AuditUnavailableException("the audit store was not forced in time to reuse a journal file",
                            failure);
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /**
     * Returns once every record acknowledged so far is inserted: immediate when nothing waits,
     * otherwise the applier inserts now. Throws {@link AuditUnavailableException} when the records
     * are not inserted within the commit timeout.
     */
    void awaitStored() {
        long target = ackedLsn;
        if (appliedLsn >= target) {
            return;
        }
        long deadline = System.nanoTime() + commitTimeout.toNanos();
        synchronized (lock) {
            applyNow = true;
            lock.notifyAll();
            while (appliedLsn < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AuditUnavailableException("the audit store is behind its journal", failure);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AuditUnavailableException("interrupted while waiting for the audit store", e);
                }
            }
        }
    }

    /**
     * At shutdown, once the writer has left: inserts and forces the rest. True when every
     * acknowledged record is in H2 and forced (the journal may then be emptied).
     */
    boolean stop() throws InterruptedException {
        synchronized (lock) {
            stopping = true;
            lock.notifyAll();
        }
        if (thread != null) {
            thread.join(10_000);
        }
        return (thread == null || !thread.isAlive()) && forcedLsn >= ackedLsn;
    }

    /**
     * The applier: inserts journaled frames into H2 in rounds (see {@link #roundDue}), or at once
     * when a reader or the journal asks; forces H2 after each transaction and every second it
     * changed; compacts as the direct path does.
     */
    private void run() {
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
            synchronized (lock) {
                while (true) {
                    long now = System.nanoTime();
                    boolean due = !toApply.isEmpty() && (applyNow || stopping
                            || roundDue(rowsToApply, bytesToApply, now - oldestToApplyAt, applyBytes));
                    if (due || syncWanted || stopping || now - lastSync >= SYNC_EVERY_NANOS) {
                        break;
                    }
                    long wait = SYNC_EVERY_NANOS - (now - lastSync);
                    if (!toApply.isEmpty()) {
                        wait = Math.min(wait, APPLY_DELAY_NANOS - (now - oldestToApplyAt));
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(lock, Math.max(wait, 100_000L));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                long now = System.nanoTime();
                if (!toApply.isEmpty() && (applyNow || stopping || syncWanted
                        || roundDue(rowsToApply, bytesToApply, now - oldestToApplyAt, applyBytes))) {
                    work.addAll(toApply);
                    toApply.clear();
                    rowsToApply = 0;
                    bytesToApply = 0;
                    applyNow = false;
                }
                // H2 is forced after every transaction of the applier's, before its next one: H2
                // writes over chunks it no longer uses at once, so a chunk the last forced state
                // still used must not be overwritten by a commit that is not forced yet. Every
                // second as well, for the commits of others (the readiness probe's).
                sync = !work.isEmpty() || syncWanted || now - lastSync >= SYNC_EVERY_NANOS || stopping;
                syncWanted = false;
                stop = stopping && toApply.isEmpty();
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
                if (forced() && !work.isEmpty()) {
                    writtenAt = System.nanoTime();
                }
                lastSync = System.nanoTime();
            }
            if (stop) {
                return;
            }
            if (sinceStep >= StoreHousekeeping.STEP_EVERY_RECORDS) {
                int records = sinceStep;
                sinceStep = 0;
                try {
                    housekeeping.step(records);
                    housekeeping.sync(); // before the next transaction, as above
                } catch (RuntimeException e) {
                    LOG.warnf("audit store compaction step failed: %s", AuditWriter.describe(e));
                }
            }
            if (work.isEmpty() && !compacted && System.nanoTime() - lastApply > StoreHousekeeping.IDLE_NANOS) {
                compactWhileIdle();
            }
        }
    }

    /** Forces H2; true when it could, and everything applied before is then forced. */
    private boolean forced() {
        long applied = appliedLsn;
        try {
            housekeeping.sync();
        } catch (RuntimeException e) {
            if (!unforced) {
                LOG.errorf("audit store not forced to disk: %s", AuditWriter.describe(e));
            }
            unforced = true;
            failure = e;
            health.set(false);
            health.failed("sync");
            return false;
        }
        if (unforced) {
            unforced = false;
            failure = null;
        }
        synchronized (lock) {
            forcedLsn = applied;
            lock.notifyAll();
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
            if (failure == null) {
                LOG.errorf("audit store: %d journaled records not inserted yet: %s", rows.size(), AuditWriter.describe(e));
            }
            failure = e;
            health.set(false);
            health.failed("apply");
            synchronized (lock) {
                for (int i = work.size() - 1; i >= 0; i--) {
                    toApply.addFirst(work.get(i));
                }
                rowsToApply += rows.size();
                for (Journaled j : work) {
                    bytesToApply += j.bytes();
                }
                if (toApply.size() == work.size()) {
                    oldestToApplyAt = System.nanoTime();
                }
            }
            return false;
        }
        if (failure != null) {
            LOG.info("audit store: journaled records are being inserted again");
            failure = null;
        }
        compacted = false;
        synchronized (lock) {
            appliedLsn = work.getLast().lsn();
            lock.notifyAll();
        }
        sinceStep += rows.size();
        return true;
    }

    private void compactWhileIdle() {
        compacted = true;
        try {
            housekeeping.compact(500);
            housekeeping.sync();
        } catch (RuntimeException e) {
            LOG.warnf("audit store compaction failed: %s", AuditWriter.describe(e));
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
     * rows start means the database changed under the journal: nothing is written. Also used by
     * the replay at start, before the applier's thread runs.
     */
    void store(List<Linked> rows, long[] ids) {
        ChainRows.inTransaction(dataSource, c -> {
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            Map<String, Linked> firsts = new java.util.LinkedHashMap<>();
            Map<String, Linked> lasts = new HashMap<>();
            for (Linked row : rows) {
                firsts.putIfAbsent(row.chain(), row);
                lasts.put(row.chain(), row);
            }
            for (var first : firsts.entrySet()) {
                String chain = first.getKey();
                Linked last = lasts.get(chain);
                Head from = new Head(first.getValue().seq() - 1, first.getValue().prevHash());
                Head to = new Head(last.seq(), last.entryHash());
                if (ChainRows.moveHead(c, chain, from, to, now) != 1) {
                    if (from.seq() != 0 || ChainRows.lockHead(c, chain) != null) {
                        throw new IllegalStateException("a chain head in the database is not where the journal left it");
                    }
                    ChainRows.createHead(c, chain, to, now);
                }
            }
            ChainRows.insert(c, rows, ids);
            ChainRows.charge(c, rows, chargeSinks);
            return null;
        });
    }
}
