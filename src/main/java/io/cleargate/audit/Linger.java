package io.cleargate.audit;

/**
 * Whether the writer waits a moment before committing a batch, for more records to join it: group
 * commit's "commit delay", taken only when enough other requests are open to fill it (as
 * PostgreSQL's {@code commit_delay} with {@code commit_siblings}).
 *
 * <p>Why: the writer commits whatever is queued the moment it is free. Under load on one core a
 * forced journal append takes about 150 µs while a record arrives every 250 µs or so, so batches
 * held 1.5 to 2 records, and each batch costs the writer some 70-90 µs of CPU (an {@code fdatasync}
 * in the kernel, its own wake-up, the frame, waking the waiters): at concurrency 64 the writer was
 * the second largest consumer of the core after the audit stage itself. A short wait lets the
 * requests already running add their records to the same frame. With one request at a time there
 * is nobody to wait for, and the request would only be slower, so the writer never waits then.
 *
 * <p>A wait that gathered nothing is a sign that the open requests are elsewhere (waiting on the
 * engine, say): the writer then skips the wait for the next batch, then two, four, up to
 * {@link #MAX_SKIP}, and starts again from one once a wait pays. Writer thread only.
 */
final class Linger {

    /** How long a batch waits for company: a few records' worth of the requests' CPU at full load. */
    static final long WAIT_NANOS = 500_000L;
    /** Open requests, besides those already in the batch, needed for a wait to be worth it. */
    static final int SIBLINGS = 8;
    static final int MAX_SKIP = 64;

    private int skip;
    private int backoff = 1;

    /** True when a batch of {@code batchSize} records, with {@code open} requests open, should wait. */
    boolean shouldWait(int batchSize, int open) {
        if (open - batchSize < SIBLINGS) {
            return false;
        }
        if (skip > 0) {
            skip--;
            return false;
        }
        return true;
    }

    /** After a wait: how many records joined the batch during it. */
    void gathered(int joined) {
        if (joined > 0) {
            backoff = 1;
        } else {
            skip = backoff;
            backoff = Math.min(MAX_SKIP, backoff * 2);
        }
    }
}
