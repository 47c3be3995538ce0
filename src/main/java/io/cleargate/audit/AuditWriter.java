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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
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
            String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt) {}

    /** Where an entry landed. */
    public record Appended(long id, String chain, long seq, String entryHash) {}

    private record Pending(Draft draft, CompletableFuture<Appended> done) {}

    private final EntityManager em;
    private final AuditConfig config;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(100_000);
    private volatile boolean healthy = true;
    private volatile boolean running;
    private Thread thread;

    @Inject
    public AuditWriter(EntityManager em, AuditConfig config) {
        this.em = em;
        this.config = config;
    }

    void start(@Observes StartupEvent ignored) {
        running = true;
        thread = Thread.ofPlatform().name("audit-writer").daemon(true).start(this::run);
    }

    void stop(@Observes ShutdownEvent ignored) throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(10_000);
        }
    }

    /** True while the last write (or probe) succeeded. Readiness reports it. */
    public boolean healthy() {
        return healthy;
    }

    public CompletableFuture<Appended> append(Draft draft) {
        var pending = new Pending(draft, new CompletableFuture<>());
        if (!running || !queue.offer(pending)) {
            pending.done().completeExceptionally(new AuditUnavailableException("audit writer not accepting", null));
        }
        return pending.done();
    }

    /** Appends and waits until durable; throws {@link AuditUnavailableException} otherwise. */
    public Appended appendDurably(Draft draft) {
        try {
            return append(draft).get(config.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AuditUnavailableException("audit store write failed", e.getCause());
        } catch (TimeoutException e) {
            healthy = false;
            throw new AuditUnavailableException("audit store write timed out", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AuditUnavailableException("interrupted while waiting for the audit store", e);
        }
    }

    /** Checks that the audit tables can be reached; run periodically while unhealthy. */
    public boolean probe() {
        try {
            QuarkusTransaction.requiringNew().run(() -> {
                em.createQuery("select count(e) from AuditEntry e where e.id = -1").getSingleResult();
                em.createQuery("select count(h) from ChainHead h where h.chainId = ''").getSingleResult();
            });
            healthy = true;
        } catch (RuntimeException e) {
            healthy = false;
        }
        return healthy;
    }

    private void run() {
        while (running || !queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>();
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, config.maxBatch() - 1);
                List<Appended> appended = writeWithRetry(batch);
                healthy = true;
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).done().complete(appended.get(i));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                healthy = false;
                LOG.errorf("audit batch of %d entries failed: %s", batch.size(), describe(e));
                batch.forEach(p -> p.done().completeExceptionally(e));
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

    private List<Appended> writeWithRetry(List<Pending> batch) {
        try {
            return QuarkusTransaction.requiringNew().call(() -> write(batch));
        } catch (RuntimeException first) {
            // A replica may have created the same new chain head concurrently: one retry sees it.
            return QuarkusTransaction.requiringNew().call(() -> write(batch));
        }
    }

    private List<Appended> write(List<Pending> batch) {
        Map<String, ChainHead> heads = new TreeMap<>();
        // Lock heads in a fixed (sorted) order so two replicas' batches cannot deadlock.
        for (String chain : batch.stream().map(p -> p.draft().chain()).collect(Collectors.toCollection(java.util.TreeSet::new))) {
            ChainHead head = em.find(ChainHead.class, chain, LockModeType.PESSIMISTIC_WRITE);
            if (head == null) {
                head = new ChainHead();
                head.chainId = chain;
                head.headSeq = 0;
                head.headHash = Canonical.GENESIS;
                head.updatedAt = Instant.now();
                em.persist(head);
                em.flush();
            }
            heads.put(chain, head);
        }
        List<AuditEntry> written = new ArrayList<>(batch.size());
        Set<String> finished = new java.util.HashSet<>();
        for (Pending p : batch) {
            Draft d = p.draft();
            ChainHead head = heads.get(d.chain());
            AuditEntry e = toEntry(d);
            e.seq = head.headSeq + 1;
            e.prevHash = head.headHash;
            e.bodySha256 = Canonical.sha256(d.body());
            e.entryHash = Canonical.entryHash(d.chain(), e.seq, e.prevHash, e.bodySha256);
            em.persist(e);
            head.headSeq = e.seq;
            head.headHash = e.entryHash;
            head.updatedAt = Instant.now();
            if ("final".equals(d.kind()) && d.requestId() != null) {
                finished.add(d.requestId());
            }
            written.add(e);
        }
        em.flush();
        if (!finished.isEmpty()) {
            em.createQuery("update AuditEntry e set e.superseded = true where e.kind = 'request' and e.requestId in :ids")
                    .setParameter("ids", finished).executeUpdate();
        }
        return written.stream().map(e -> new Appended(e.id, e.chainId, e.seq, e.entryHash)).toList();
    }

    private static AuditEntry toEntry(Draft d) {
        AuditEntry e = new AuditEntry();
        e.chainId = d.chain();
        e.kind = d.kind();
        e.requestId = d.requestId();
        e.recordedAt = d.recordedAt();
        e.tenant = d.tenant();
        e.subject = d.subject();
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
        e.superseded = false;
        return e;
    }
}
