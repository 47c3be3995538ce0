package io.cleargate.audit;

import java.util.List;

/**
 * How a batch of entries the writer took from its queue becomes durable. There are two, chosen
 * once at start by the store: {@link DirectCommit} (a database that forces its own log, PostgreSQL,
 * or H2 in memory: one JDBC transaction per batch) and {@link JournaledCommit} (the embedded H2
 * file: a forced append to a journal, with an applier inserting into H2 behind it). Every method
 * but {@link #working()} and {@link #awaitStored()} runs on the writer thread.
 */
sealed interface CommitPath permits DirectCommit, JournaledCommit {

    /**
     * Makes the batch durable and completes every entry's future: with where it landed, or
     * exceptionally when it is not durable (the caller then refuses its request).
     */
    void commit(List<ChainRows.Pending> batch) throws InterruptedException;

    /**
     * Whether this path encodes bodies for storage itself ({@link StoredBody#encode}), off the
     * callers' threads: callers then queue the plain JSON, which is also a stored form.
     */
    boolean encodesBodies();

    /** Whether the writer may hold a small batch back a moment for more records ({@link Linger}). */
    boolean lingers();

    /** Nothing arrived for a while: time for upkeep. */
    void idle();

    /** False while the path itself cannot make records durable, though the database answers. */
    boolean working();

    /**
     * Bytes of acknowledged records the database does not hold yet (the journaled path's backlog),
     * counted as written when the disk's reserve is checked; 0 where acknowledged means stored.
     */
    default long unstoredBytes() {
        return 0;
    }

    /** Returns once every acknowledged record can be read from the database (see AuditWriter#awaitStored). */
    void awaitStored();

    /** At shutdown, once the writer has left. */
    void close() throws InterruptedException;
}
