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
        if (directory == null) {
            return false;
        }
        long now = clock.getAsLong();
        Reading seen = last;
        if (seen != null && seen.usable() - reserve > reserve && now - seen.at() < REUSE_NANOS) {
            return false;
        }
        try {
            long free = usable();
            last = new Reading(now, free);
            return free < reserve;
        } catch (IOException e) {
            last = null;
            return true;
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
