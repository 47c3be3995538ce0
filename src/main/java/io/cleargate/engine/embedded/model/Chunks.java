package io.cleargate.engine.embedded.model;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The items of one step of a {@link Team} region (rows of a product, heads), which members take in
 * chunks from a shared counter until none are left. An equal static split left each member waiting
 * for the other at a fifth of the barriers (decode profile, two threads: memory does not serve both
 * cores at the same rate all the time); taking chunks, a member that is slowed down only holds the
 * others up for the chunk it is on. Which member computes an item never changes how it is computed.
 */
final class Chunks {

    /** A range of items {@code from .. to}. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    private final AtomicInteger next = new AtomicInteger();
    private final int total;
    private final int chunk;

    private Chunks(int total, int chunk) {
        this.total = total;
        this.chunk = chunk;
    }

    /** {@code total} items in about eight chunks per member, each a multiple of {@code align} items. */
    static Chunks of(int total, int members, int align) {
        int per = Math.max(1, (total + 8 * members - 1) / (8 * members));
        return new Chunks(total, (per + align - 1) / align * align);
    }

    /**
     * Rows of a batch product that goes through {@link Panels}, in chunks of whole panels: 64 rows (a
     * four-panel tile with AVX-512) while that still leaves about eight chunks a member, else 32, at least
     * 16. {@link #of} rounded 544 rows (q_a with kv_a) to chunks of 36 for two members, i.e. two panels
     * and a third one padded with twelve zero rows, and the router's 32 rows to chunks of 4, each a
     * panel of 16 rows for 4 (one thread, 64 tokens: 1.20 against 0.80 ms and 0.21 against 0.05 ms,
     * speed.md 56).
     */
    static Chunks panels(int total, int members) {
        int chunk = 64;
        while (chunk > 16 && total < 8 * members * chunk) {
            chunk /= 2;
        }
        return new Chunks(total, chunk);
    }

    /** Chunks of exactly {@code chunk} items (the last one shorter). */
    static Chunks fixed(int total, int chunk) {
        return new Chunks(total, chunk);
    }

    /**
     * Chunks of exactly {@code chunk} items of a total that is not known when the step is made: every
     * member works it out itself (each the same) and passes it to {@link #take(int, Range)}.
     */
    static Chunks open(int chunk) {
        return new Chunks(Integer.MAX_VALUE, chunk);
    }

    /** Runs {@code body} on chunks until every item has been taken (by this member or another). */
    void take(Range body) {
        take(total, body);
    }

    /** {@link #take(Range)} for {@code total} items (chunks made with {@link #open}). */
    void take(int total, Range body) {
        for (int from; (from = next.getAndAdd(chunk)) < total; ) {
            body.run(from, Math.min(total, from + chunk));
        }
    }
}
