package io.cleargate.audit;

import io.cleargate.audit.ChainRows.Pending;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Group commit: callers append drafts to one queue; one writer thread takes every pending entry as
 * a batch and hands it to the store's {@link CommitPath}, which completes each caller's future once
 * the batch is durable. It never waits to fill a batch: whatever is queued when it is free goes out
 * at once, so a lone request commits alone and under load a batch is what arrived during the
 * previous commit. The two paths:
 * <ul>
 *   <li>{@link DirectCommit} (PostgreSQL and every store but the embedded H2 file): one JDBC
 *       transaction per batch, chain heads locked so replicas append to one sequence per chain;</li>
 *   <li>{@link JournaledCommit} (the embedded H2 file): one forced journal append per batch, a
 *       {@link JournalApplier} inserting into H2 behind it, replay of the journal at start.</li>
 * </ul>
 * What a row holds and the SQL both use is in {@link ChainRows}; whether the store takes writes
 * (readiness) in {@link StoreHealth}.
 */
@ApplicationScoped
public class AuditWriter {

    private static final Logger LOG = Logger.getLogger(AuditWriter.class);

    private final EntityManager em;
    private final DataSource dataSource;
    private final AuditConfig config;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(100_000);
    /** Fails waits for a durable record once the commit timeout has passed; see {@link CommitDeadlines}. */
    private final CommitDeadlines commitDeadlines = new CommitDeadlines(java.time.Duration.ofMillis(50));
    private final StoreHealth health = new StoreHealth();
    private volatile boolean running;
    private Thread thread;
    /** How batches become durable: chosen at start, by the store. */
    private volatile CommitPath path;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.datasource.jdbc.url")
    java.util.Optional<String> jdbcUrl = java.util.Optional.empty();

    /** Whoever keeps aggregates of the charges (the usage ledger); optional so the writer also runs outside CDI. */
    @Inject
    jakarta.enterprise.inject.Instance<ChargeSink> chargeSinks;

    /** Forces batches to disk and gives space back (embedded H2); optional so the writer also runs outside CDI. */
    @Inject
    StoreHousekeeping housekeeping;

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
            health.countIn(meters);
        }
    }

    /**
     * Picks the commit path: the embedded H2 file journals (and replays its journal first, so a
     * damaged journal stops the start); every other store commits directly.
     */
    void start(@Observes StartupEvent ignored) {
        health.watch(StoreDisk.of(jdbcUrl, config.minFreeSpace().asLongValue()));
        path = housekeeping != null && housekeeping.embeddedFile()
                ? JournaledCommit.open(dataSource, config, health, housekeeping, chargeSinks)
                : new DirectCommit(dataSource, health, housekeeping, chargeSinks);
        running = true;
        thread = Thread.ofPlatform().name("audit-writer").daemon(true).start(this::run);
    }

    void stop(@Observes ShutdownEvent ignored) throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
        if (path != null) {
            path.close();
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
        return health.healthy();
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
                health.set(false);
                health.failed("timeout");
                throw new AuditUnavailableException("audit store write timed out", timedOut);
            }
            health.failed("error");
            throw new AuditUnavailableException("audit store write failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("interrupted while waiting for the audit store", e);
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
        CommitPath current = path;
        if (current != null) {
            current.awaitStored();
        }
    }

    /**
     * Writes to the store as a batch would: rewrites the probe row with a payload of the size of
     * a small batch and commits. Reading is not enough: a full disk or a read-only database still
     * answers reads. Run by readiness every few seconds, with or without traffic. On the embedded
     * H2 file, when the journal's applier wrote records to H2 and forced it within the last
     * {@link #PROBE_WRITTEN_NANOS}, that write is the answer and the probe writes nothing: under
     * traffic its own commit was one more chunk of H2's to force on the disk the requests' journal
     * flushes share (speed.md section 47).
     */
    public boolean probe() {
        if (health.spaceRunsOut()) {
            health.set(false);
            return false;
        }
        CommitPath written = path;
        if (written != null && written.wroteWithin(PROBE_WRITTEN_NANOS)) {
            health.set(written.working());
            return health.healthy();
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
            CommitPath current = path;
            health.set(current == null || current.working());
        } catch (RuntimeException e) {
            if (health.healthy()) {
                LOG.errorf("audit store cannot write: %s", describe(e));
            }
            health.set(false);
        }
        return health.healthy();
    }

    private static final int PROBE_BYTES = 16 * 1024;
    /** A write of the store's own this recent answers the probe: the default probe interval. */
    static final long PROBE_WRITTEN_NANOS = 2_000_000_000L;

    /**
     * The writer thread: takes whatever is queued, up to a batch, and hands it to the commit path.
     * It never waits to fill a batch.
     */
    private void run() {
        while (running || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    path.idle();
                    continue;
                }
                List<Pending> batch = new ArrayList<>();
                batch.add(first);
                queue.drainTo(batch, config.maxBatch() - 1);
                path.commit(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
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
}
