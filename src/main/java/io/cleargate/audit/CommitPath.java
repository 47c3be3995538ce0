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

    /** Nothing arrived for a while: time for upkeep. */
    void idle();

    /** False while the path itself cannot make records durable, though the database answers. */
    boolean working();

    /**
     * True when the path wrote to the database, and made that write durable, within the last
     * {@code nanos}: the readiness probe then has its answer without a write of its own. False
     * where the path does not keep track (the probe then writes).
     */
    default boolean wroteWithin(long nanos) {
        return false;
    }

    /** Returns once every acknowledged record can be read from the database (see AuditWriter#awaitStored). */
    void awaitStored();

    /** At shutdown, once the writer has left. */
    void close() throws InterruptedException;
}
