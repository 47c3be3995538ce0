package io.cleargate.audit;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The free space left where the embedded database (H2, {@code jdbc:h2:file:}) keeps its files.
 * H2 must never meet a full disk: a write that fails for lack of space closes its store, and a
 * session still open on the closed store then spins forever (MVStore.registerVersionUsage), so
 * the gateway could not recover without a restart. Below the reserve, the audit writer refuses
 * batches and readiness reads DOWN without asking H2 to write; once space is back, the next probe
 * writes and readiness is UP again. A database server (PostgreSQL) guards its own disk: no reserve.
 *
 * <p>On the journaled path records are acknowledged before H2 holds them, so what H2 still owes
 * counts as spent ({@link #low(long)}), and H2 itself writes only above half the reserve
 * ({@link #roomAboveFloor()}): the journal's applier sizes its transactions to that room and
 * waits, its records safe in the journal, when even one frame would not fit.
 */
final class StoreDisk {

    /**
     * How long an answer of {@link #low()} is reused while the disk had more than twice the reserve
     * free. The writer asks before every batch, which at concurrency 1 is twice per request, and
     * each answer is a {@code statvfs}; using up a whole reserve in this time would take hundreds
     * of MB/s. Nearer the reserve every call asks the file system.
     */
    static final long REUSE_NANOS = 100_000_000L;

    private final Path directory;
    private final long reserve;
    private final LongSupplier clock;
    private FileStore store;
    private final LongSupplier usable;
    /** The last reading of {@link #low()}: when and how much was free. */
    private volatile Reading last;
    /** The last answer of {@link #low(long)}: once low, the disk stays low until twice the reserve is free. */
    private volatile boolean wasLow;

    private record Reading(long at, long usable) {}

    private StoreDisk(Path directory, long reserve) {
        this(directory, reserve, null, System::nanoTime);
    }

    /** With the free space and the clock given (for tests). */
    StoreDisk(Path directory, long reserve, LongSupplier usable, LongSupplier clock) {
        this.directory = directory;
        this.reserve = reserve;
        this.usable = usable;
        this.clock = clock;
    }

    /** For a JDBC URL: H2 file databases get a reserve, anything else none. */
    static StoreDisk of(Optional<String> jdbcUrl, long reserve) {
        String prefix = "jdbc:h2:file:";
        if (jdbcUrl.isEmpty() || !jdbcUrl.get().startsWith(prefix) || reserve <= 0) {
            return new StoreDisk(null, 0);
        }
        String file = jdbcUrl.get().substring(prefix.length());
        int options = file.indexOf(';');
        Path parent = Path.of(options < 0 ? file : file.substring(0, options)).toAbsolutePath().getParent();
        return new StoreDisk(parent, reserve);
    }

    /** True when the database's file system has less than the reserve free (or cannot be read). */
    boolean low() {
        return low(0);
    }

    /**
     * True when, after {@code owed} more bytes are written (records acknowledged but not yet in
     * the database, and the batch about to be), less than the reserve would be free; or when the
     * disk cannot be read. Once low it stays low until twice the reserve would be free: the
     * backlog counted as owed usually takes less room in the database than in the journal, and
     * without the margin the store would come back as soon as it was inserted, take a little more
     * and go low again, readiness flapping at the edge of a disk that is full for all purposes.
     */
    boolean low(long owed) {
        if (directory == null) {
            return false;
        }
        long now = clock.getAsLong();
        Reading seen = last;
        if (!wasLow && seen != null && seen.usable() - owed - reserve > reserve && now - seen.at() < REUSE_NANOS) {
            return false;
        }
        try {
            long free = usable();
            last = new Reading(now, free);
            boolean low = free - owed < (wasLow ? 2 * reserve : reserve);
            wasLow = low;
            return low;
        } catch (IOException e) {
            last = null;
            wasLow = true;
            return true;
        }
    }

    /**
     * What the database may still write: the free space above half the reserve (the other half is
     * the margin for what an estimate of a write's size misses). Always asks the file system;
     * {@link Long#MAX_VALUE} without a reserve, 0 when the disk cannot be read.
     */
    long roomAboveFloor() {
        if (directory == null) {
            return Long.MAX_VALUE;
        }
        try {
            return Math.max(0, usable() - reserve / 2);
        } catch (IOException e) {
            return 0;
        }
    }

    private long usable() throws IOException {
        if (usable != null) {
            return usable.getAsLong();
        }
        if (store == null) {
            store = Files.getFileStore(directory);
        }
        return store.getUsableSpace();
    }

    /** True when {@code bytes} more could be written and the reserve would still be free (always, without a reserve). */
    boolean roomFor(long bytes) {
        if (directory == null) {
            return true;
        }
        try {
            return usable() - bytes >= reserve;
        } catch (IOException e) {
            return false;
        }
    }

    long reserve() {
        return reserve;
    }
}
