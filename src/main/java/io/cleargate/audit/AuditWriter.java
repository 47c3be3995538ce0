package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Group commit: one writer thread takes every pending entry, appends a batch of them in a single
 * transaction, and completes each caller's future once the transaction has committed. The writer
 * assigns sequence numbers and hashes in order while holding each chain's head row locked
 * (SELECT ... FOR UPDATE), so replicas sharing the database append to one sequence per chain.
 */
@ApplicationScoped
public class AuditWriter {

    private static final Logger LOG = Logger.getLogger(AuditWriter.class);

    /** An entry as built by a caller, before it has a place in its chain. */
    public record Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
            String model, String region, String decision, String state, Integer httpStatus, String tags,
            String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt,
            String username, String email, Charge charge) {

        /** A draft that charges nothing. */
        public Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
                String model, String region, String decision, String state, Integer httpStatus, String tags,
                String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt,
                String username, String email) {
            this(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision, state, httpStatus, tags,
                    body, content, contentMode, contentExpiresAt, metadataExpiresAt, username, email, null);
        }

        /** A draft of an entry that names no person (admin events, tests). */
        public Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
                String model, String region, String decision, String state, Integer httpStatus, String tags,
                String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt) {
            this(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision, state, httpStatus, tags,
                    body, content, contentMode, contentExpiresAt, metadataExpiresAt, null, null);
        }
    }

    /** Where an entry landed. */
    public record Appended(long id, String chain, long seq, String entryHash) {}

    /** A draft waiting for the writer, with its body's hash computed by the caller (off the writer thread). */
    private record Pending(Draft draft, String bodySha256, CompletableFuture<Appended> done) {}

    private final EntityManager em;
    private final AuditConfig config;
    /** Chain heads as of this writer's last commit; touched by the writer thread only. */
    private final Map<String, Head> known = new HashMap<>();
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(100_000);
    private volatile boolean healthy = true;
    private volatile boolean running;
    private Thread thread;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.datasource.jdbc.url")
    java.util.Optional<String> jdbcUrl = java.util.Optional.empty();
    private StoreDisk disk;
    private volatile boolean lowOnSpace;

    /** Whoever keeps aggregates of the charges (the usage ledger); optional so the writer also runs outside CDI. */
    @Inject
    jakarta.enterprise.inject.Instance<ChargeSink> chargeSinks;

    /** Forces batches to disk and gives space back (embedded H2); optional so the writer also runs outside CDI. */
    @Inject
    StoreHousekeeping housekeeping;
    /** When the writer last committed, and records written since its last housekeeping step (writer thread only). */
    private long lastBatchAt;
    private int sinceStep;
    /** Batches written since the store was last compacted while idle. */
    private boolean compacted = true;
    /** A step rewrites about what this many records left half-empty: its cost per record is fixed, whatever the rate. */
    private static final int STEP_EVERY_RECORDS = 256;
    private static final long IDLE_NANOS = 1_000_000_000L;

    /** Optional so the writer also runs outside CDI; see k8s/README.md for the metric contract. */
    @Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    @Inject
    public AuditWriter(EntityManager em, AuditConfig config) {
        this.em = em;
        this.config = config;
    }

    private io.micrometer.core.instrument.Timer writeTimer;

    @jakarta.annotation.PostConstruct
    void registerMetrics() {
        if (meters != null) {
            meters.gauge("cleargate.audit.backlog", queue, LinkedBlockingQueue::size);
            writeTimer = io.micrometer.core.instrument.Timer.builder("cleargate.audit.write")
                    .publishPercentileHistogram().register(meters);
        }
    }

    private void failed(String reason) {
        if (meters != null) {
            meters.counter("cleargate.audit.write.failures", "reason", reason).increment();
        }
    }

    void start(@Observes StartupEvent ignored) {
        disk = StoreDisk.of(jdbcUrl, config.minFreeSpace().asLongValue());
        running = true;
        thread = Thread.ofPlatform().name("audit-writer").daemon(true).start(this::run);
    }

    void stop(@Observes ShutdownEvent ignored) throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
        if (housekeeping != null) {
            try {
                housekeeping.compact(2_000); // what the last minutes left half-empty, before H2 closes the file
            } catch (RuntimeException e) {
                LOG.warnf("audit store not compacted at shutdown: %s", describe(e));
            }
        }
    }

    /** True while the last write (or probe) succeeded. Readiness reports it. */
    public boolean healthy() {
        return healthy;
    }

    public CompletableFuture<Appended> append(Draft draft) {
        // Hashing and encoding the body here, on the caller's thread, keeps the single writer for the store.
        var pending = new Pending(draft, Canonical.sha256(draft.body()), new CompletableFuture<>());
        StoredBody.prepare(draft.body());
        if (!running || !queue.offer(pending)) {
            pending.done().completeExceptionally(new AuditUnavailableException("audit writer not accepting", null));
        }
        return pending.done();
    }

    /** Appends and waits until durable; throws {@link AuditUnavailableException} otherwise. */
    public Appended appendDurably(Draft draft) {
        long start = System.nanoTime();
        try {
            Appended appended = append(draft).get(config.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (writeTimer != null) {
                writeTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
            return appended;
        } catch (ExecutionException e) {
            failed("error");
            throw new AuditUnavailableException("audit store write failed", e.getCause());
        } catch (TimeoutException e) {
            healthy = false;
            failed("timeout");
            throw new AuditUnavailableException("audit store write timed out", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("interrupted while waiting for the audit store", e);
        }
    }

    /**
     * Writes to the store as a batch would: rewrites the probe row with a payload of the size of
     * a small batch and commits. Reading is not enough: a full disk or a read-only database still
     * answers reads. Run by readiness every few seconds, with or without traffic.
     */
    public boolean probe() {
        if (spaceRunsOut()) {
            healthy = false;
            return false;
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
            healthy = true;
        } catch (RuntimeException e) {
            if (healthy) {
                LOG.errorf("audit store cannot write: %s", describe(e));
            }
            healthy = false;
        }
        return healthy;
    }

    private static final int PROBE_BYTES = 16 * 1024;

    /** True while the embedded database's disk is below its reserve; logs each change once. */
    private boolean spaceRunsOut() {
        boolean low = disk != null && disk.low();
        if (low != lowOnSpace) {
            lowOnSpace = low;
            if (low) {
                LOG.errorf("audit store: less than %d bytes free for the database, refusing to write", disk.reserve());
            } else {
                LOG.infof("audit store: free space is back above %d bytes", disk.reserve());
            }
        }
        return low;
    }

    private void run() {
        while (running || !queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    whileIdle();
                    StoredBody.forgetPrepared(); // bodies of batches that failed before their flush
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, config.maxBatch() - 1);
                if (spaceRunsOut()) {
                    healthy = false;
                    failed("disk");
                    var refused = new AuditUnavailableException("the audit store's disk is nearly full", null);
                    batch.forEach(p -> p.done().completeExceptionally(refused));
                    continue;
                }
                List<Appended> appended = writeWithRetry(batch);
                if (!forcedToDisk(batch)) {
                    continue;
                }
                healthy = true;
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).done().complete(appended.get(i));
                }
                betweenBatches(batch.size());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.errorf("audit batch of %d entries failed: %s", batch.size(), describe(e));
                if (batch.size() == 1) {
                    healthy = false;
                    batch.getFirst().done().completeExceptionally(e);
                } else {
                    healthy = writeEachAlone(batch);
                }
            }
        }
    }

    /**
     * After a commit: true once the batch is on disk. Otherwise every caller is refused (the
     * records stay committed, but nobody is told they are durable) and the batch is not written
     * again, which would append each entry twice.
     */
    private boolean forcedToDisk(List<Pending> batch) {
        try {
            forceToDisk();
            return true;
        } catch (RuntimeException e) {
            LOG.errorf("audit batch of %d entries committed but not forced to disk: %s", batch.size(), describe(e));
            healthy = false;
            failed("sync");
            var refused = new AuditUnavailableException("the audit store could not force its file to disk", e);
            batch.forEach(p -> p.done().completeExceptionally(refused));
            return false;
        }
    }

    /** Committed is not yet durable on an embedded store: one fsync for the whole batch. */
    private void forceToDisk() {
        if (housekeeping != null) {
            housekeeping.sync();
        }
        lastBatchAt = System.nanoTime();
        compacted = false;
    }

    /** Under load, a bounded compaction step every few hundred records, between two batches. */
    private void betweenBatches(int written) {
        sinceStep += written;
        if (housekeeping != null && sinceStep >= STEP_EVERY_RECORDS) {
            sinceStep = 0;
            try {
                housekeeping.step();
            } catch (RuntimeException e) {
                LOG.warnf("audit store compaction step failed: %s", describe(e));
            }
        }
    }

    /** Once nothing has been written for a second, compacts what the last burst left behind. */
    private void whileIdle() {
        if (housekeeping != null && !compacted && System.nanoTime() - lastBatchAt > IDLE_NANOS) {
            compacted = true;
            try {
                housekeeping.compact(500);
            } catch (RuntimeException e) {
                LOG.warnf("audit store compaction failed: %s", describe(e));
            }
        }
    }

    /**
     * After a failed batch, each entry is written in its own transaction, so one entry the
     * store refuses fails only its own request, never the others' in the batch. True when any
     * entry could be written (the store works).
     */
    private boolean writeEachAlone(List<Pending> batch) {
        boolean any = false;
        for (Pending p : batch) {
            try {
                Batch written = QuarkusTransaction.requiringNew().call(() -> write(List.of(p)));
                known.putAll(written.heads());
                forceToDisk();
                p.done().complete(written.appended().getFirst());
                any = true;
            } catch (RuntimeException e) {
                known.clear();
                p.done().completeExceptionally(e);
            }
        }
        if (!any) {
            LOG.errorf("audit store refused all %d entries of the batch, each written alone", batch.size());
        }
        return any;
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

    private List<Appended> writeWithRetry(List<Pending> batch) {
        Batch written;
        try {
            written = QuarkusTransaction.requiringNew().call(() -> write(batch));
        } catch (RuntimeException first) {
            // A replica may have created the same new chain head concurrently: one retry sees it.
            known.clear();
            try {
                written = QuarkusTransaction.requiringNew().call(() -> write(batch));
            } catch (RuntimeException second) {
                known.clear();
                throw second;
            }
        }
        known.putAll(written.heads()); // only once committed
        return written.appended();
    }

    private record Head(long seq, String hash) {}

    private record Batch(List<Appended> appended, Map<String, Head> heads) {}

    /**
     * Appends the batch, chain by chain in sorted order (so two replicas cannot deadlock). When
     * this writer knows a chain's head from its own last commit, one conditional UPDATE both
     * locks the head row and checks that no other replica appended since; otherwise, or when the
     * check fails, the head is read with SELECT ... FOR UPDATE. Either way the row stays locked
     * until commit, so appends to a chain are serialised across replicas.
     */
    private Batch write(List<Pending> batch) {
        Map<String, List<Draft>> byChain = new TreeMap<>();
        Map<Draft, String> bodyHashes = new java.util.IdentityHashMap<>();
        for (Pending p : batch) {
            byChain.computeIfAbsent(p.draft().chain(), c -> new ArrayList<>()).add(p.draft());
            bodyHashes.put(p.draft(), p.bodySha256());
        }
        Map<Draft, AuditEntry> entries = new java.util.IdentityHashMap<>();
        Map<String, Head> heads = new HashMap<>();
        Instant now = Instant.now();
        for (var chain : byChain.entrySet()) {
            Head cached = known.get(chain.getKey());
            List<AuditEntry> linked = null;
            if (cached != null) {
                linked = link(chain.getKey(), chain.getValue(), cached, bodyHashes);
                AuditEntry last = linked.getLast();
                int moved = moveHead(chain.getKey(), cached, new Head(last.seq, last.entryHash), now);
                if (moved != 1) {
                    linked = null;
                }
            }
            if (linked == null) {
                ChainHead head = em.find(ChainHead.class, chain.getKey(), LockModeType.PESSIMISTIC_WRITE);
                if (head == null) {
                    head = new ChainHead();
                    head.chainId = chain.getKey();
                    head.headSeq = 0;
                    head.headHash = Canonical.GENESIS;
                    head.updatedAt = now;
                    em.persist(head);
                    em.flush();
                }
                linked = link(chain.getKey(), chain.getValue(), new Head(head.headSeq, head.headHash), bodyHashes);
                head.headSeq = linked.getLast().seq;
                head.headHash = linked.getLast().entryHash;
                head.updatedAt = now;
            }
            for (int i = 0; i < linked.size(); i++) {
                em.persist(linked.get(i));
                entries.put(chain.getValue().get(i), linked.get(i));
            }
            heads.put(chain.getKey(), new Head(linked.getLast().seq, linked.getLast().entryHash));
        }
        em.flush();
        List<Charge> charges = batch.stream().map(p -> p.draft().charge()).filter(java.util.Objects::nonNull).toList();
        if (!charges.isEmpty() && chargeSinks != null) {
            chargeSinks.forEach(sink -> sink.charged(charges));
        }
        List<Appended> appended = batch.stream().map(p -> entries.get(p.draft()))
                .map(e -> new Appended(e.id, e.chainId, e.seq, e.entryHash)).toList();
        return new Batch(appended, heads);
    }

    /**
     * Moves a chain's head from {@code from} to {@code to} if no other writer moved it since; 1 when
     * it did (the row is now locked until commit), 0 otherwise. Plain JDBC on the transaction's
     * connection: a JPQL bulk update cost a third of the writer's CPU per batch (query plan, flush
     * check, cache invalidation), for one indexed UPDATE.
     */
    private int moveHead(String chain, Head from, Head to, Instant now) {
        return em.unwrap(org.hibernate.Session.class).doReturningWork(c -> {
            try (var update = c.prepareStatement("UPDATE audit_chain SET head_seq = ?, head_hash = ?, updated_at = ?"
                    + " WHERE chain_id = ? AND head_seq = ? AND head_hash = ?")) {
                update.setLong(1, to.seq());
                update.setString(2, to.hash());
                update.setObject(3, now.atOffset(java.time.ZoneOffset.UTC));
                update.setString(4, chain);
                update.setLong(5, from.seq());
                update.setString(6, from.hash());
                return update.executeUpdate();
            }
        });
    }

    /** Assigns sequence numbers and hashes after {@code head}, in the order the drafts arrived. */
    private static List<AuditEntry> link(String chain, List<Draft> drafts, Head head, Map<Draft, String> bodyHashes) {
        List<AuditEntry> linked = new ArrayList<>(drafts.size());
        long seq = head.seq();
        String prev = head.hash();
        for (Draft d : drafts) {
            AuditEntry e = toEntry(d);
            e.seq = ++seq;
            e.prevHash = prev;
            e.bodySha256 = bodyHashes.get(d);
            e.entryHash = Canonical.entryHash(chain, e.seq, e.prevHash, e.bodySha256);
            prev = e.entryHash;
            linked.add(e);
        }
        return linked;
    }

    private static AuditEntry toEntry(Draft d) {
        AuditEntry e = new AuditEntry();
        e.chainId = d.chain();
        e.kind = d.kind();
        e.requestId = d.requestId();
        e.recordedAt = d.recordedAt();
        e.tenant = d.tenant();
        e.subject = d.subject();
        e.username = d.username();
        e.email = d.email();
        e.model = d.model();
        e.region = d.region();
        e.decision = d.decision();
        e.state = d.state();
        e.httpStatus = d.httpStatus();
        e.tags = d.tags();
        e.body = d.body();
        e.content = d.content();
        e.contentMode = d.contentMode();
        e.contentExpiresAt = d.contentExpiresAt();
        e.metadataExpiresAt = d.metadataExpiresAt();
        return e;
    }
}
