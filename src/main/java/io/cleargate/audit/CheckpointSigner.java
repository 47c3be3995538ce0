package io.cleargate.audit;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import org.jboss.logging.Logger;

/**
 * Signs chain heads with Ed25519: at intervals, and at export time. A checkpoint commits to
 * (chain, seq, head hash, time); a verifier holding the public key detects any change to the
 * chain up to that sequence and any truncation below it.
 *
 * <p>The signer never signs a head that does not extend what it signed before: the last stored
 * checkpoint and the last one in its witness file (outside the database) must both be ancestors
 * of the new head through correctly recomputed links. Otherwise the chain was rewritten, and the
 * signer refuses, logs and counts {@code cleargate_audit_checkpoint_refusals_total} (an alert).
 */
@ApplicationScoped
public class CheckpointSigner {

    private static final Logger LOG = Logger.getLogger(CheckpointSigner.class);

    /**
     * Records read and checked in one slice of a run: 1.7 ms of CPU at the full arm's c=1 rate
     * (speed.md section 44: about 14 µs a record, mostly inflating and hashing its body, and about
     * 0.8 ms a slice for its transaction and query and the caches it finds cold after a pause; slices
     * of 32 took 1.3 ms). A scheduled run pauses after each slice ({@link #pause}), so a request that
     * wakes while the signer holds the core waits for the rest of one slice at most. In pages of
     * 1,000 one run at c=1 held the core for up to 180-215 ms at a stretch every 10 s, and a lower
     * priority alone did not stop requests queueing behind it at every hand-off (sections 18, 21, 41).
     */
    static final int PAGE = 64;

    /** The longest pause after a slice: longer than a c=1 request, so that one request meets one slice at most. */
    static final long PAUSE_NANOS = 5_000_000;

    /**
     * What a scheduled run's pauses add up to at most, over all its chains: the pause shrinks below
     * {@link #PAUSE_NANOS} when a run has more than 600 slices to check (38,400 records, 10 s at
     * about 1,900 requests a second), so that a run's wall time stays within its CPU plus 3 s
     * whatever the load and it does not lap the 10 s interval (at c=1, about 200 slices: 1 s of
     * pauses for 0.3 s of CPU).
     */
    static final long RUN_PAUSES_NANOS = 3_000_000_000L;

    /** Nothing between slices: a caller waits for the signature (exports, the verify and sign-now endpoints). */
    static final Runnable NO_PAUSE = () -> {};

    /**
     * One page of the links between two signed heads. The order starts with chain_id, fixed by the
     * WHERE clause, so that H2 reads the rows in the order of the (chain_id, seq) index and stops
     * after the page: ordered by "seq, id" alone it read and sorted every row from the page's first
     * seq to the head for each page of 1,000 (a run over n records read about n²/2,000 rows).
     */
    static final String LINKS_PAGE = "SELECT seq, prev_hash, entry_hash, body_sha256, body FROM audit_entry"
            + " WHERE chain_id = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY chain_id, seq, id";

    private final EntityManager em;
    private final SigningKeys keys;
    private final CheckpointWitness witness;
    private final MeterRegistry meters;

    /** Field-injected: the package's own tests build signers outside CDI and never schedule them. */
    @Inject
    ScheduledJobs jobs;

    /** Readers wait for every acknowledged record to be in the database (see {@link AuditWriter#awaitStored()}). */
    @Inject
    AuditWriter writer;

    @Inject
    public CheckpointSigner(EntityManager em, AuditConfig config, MeterRegistry meters) {
        this(em, keys(config), CheckpointWitness.of(config, meters), meters);
    }

    CheckpointSigner(EntityManager em, SigningKeys keys, CheckpointWitness witness, MeterRegistry meters) {
        this.em = em;
        this.keys = keys;
        this.witness = witness;
        this.meters = meters;
    }

    static SigningKeys keys(AuditConfig config) {
        String seed = config.signingKey().filter(s -> !s.isBlank()).orElseGet(() -> DevKeys.loadOrCreate(
                Path.of(config.dataDir(), "audit", "checkpoint-ed25519.seed"),
                () -> Base64.getEncoder().encodeToString(Keyring.random(32))));
        return new SigningKeys(SigningKeys.seed(seed), config.previousPublicKeys().orElse(List.of()));
    }

    /** The bytes a checkpoint signature covers. */
    public static byte[] message(String chain, long seq, String headHash, String signedAt) {
        return ("cleargate-checkpoint-v1|" + chain + "|" + seq + "|" + headHash + "|" + signedAt)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The bytes an export header's signature covers: the scope text exactly as written. */
    static byte[] exportMessage(String scope) {
        return ("cleargate-export-v1|" + scope).getBytes(StandardCharsets.UTF_8);
    }

    public String keyId() {
        return keys.currentId();
    }

    /** Raw 32-byte Ed25519 public key of the current signing key, hex. */
    public String publicKeyHex() {
        return keys.currentPublicHex();
    }

    /** Every key whose signatures verify here: key id → raw public key (hex), current first. */
    public Map<String, String> publicKeys() {
        return keys.publicKeysHex();
    }

    String signExport(String scope) {
        return keys.sign(exportMessage(scope));
    }

    /** A document signed with the checkpoint key: the signature covers {@link #documentMessage}. */
    public record SignedDocument(String type, String sha256, String keyId, String algorithm, String signature) {}

    /** The bytes a document signature covers: its type and the SHA-256 of its canonical JSON. */
    public static byte[] documentMessage(String type, String sha256) {
        return ("cleargate-document-v1|" + type + "|" + sha256).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Signs a report (for example a model probe report) with the same Ed25519 key as the
     * checkpoints, so a third party holding {@link #publicKeyHex()} can check it offline.
     */
    public SignedDocument signDocument(String type, String canonicalJson) {
        String sha = Canonical.sha256(canonicalJson);
        return new SignedDocument(type, sha, keys.currentId(), "Ed25519", keys.sign(documentMessage(type, sha)));
    }

    /** True when {@code d} signs exactly this JSON with the current or a previous checkpoint key. */
    public boolean verifyDocument(String canonicalJson, SignedDocument d) {
        String sha = Canonical.sha256(canonicalJson);
        return sha.equals(d.sha256()) && keys.verify(d.keyId(), documentMessage(d.type(), sha), d.signature());
    }

    public boolean verify(Checkpoint c) {
        return keys.verify(c.keyId, message(c.chainId, c.seq, c.headHash, c.signedAt), c.signature);
    }

    /** The last checkpoint the witness file holds for the chain. */
    Optional<Checkpoint> witnessed(String chain) {
        return witness.last(chain);
    }

    Path witnessFile() {
        return witness.file();
    }

    @Scheduled(every = "${cleargate.audit.checkpoint-every:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        jobs.runInBackground("checkpointing", () -> checkpointAll(CheckpointSigner::pause));
    }

    /** A scheduled run's pause between two slices, for a run over {@code records} records (an interrupt ends one early). */
    static Runnable pause(long records) {
        long nanos = Math.min(PAUSE_NANOS, RUN_PAUSES_NANOS / (records / PAGE + 1));
        return () -> LockSupport.parkNanos(nanos);
    }

    /** Signs every chain head that moved since its last checkpoint; returns how many were signed. */
    public int checkpointAll() {
        return checkpointAll(records -> NO_PAUSE);
    }

    /**
     * As {@link #checkpointAll()}, running what {@code pacing} gives for the run's number of
     * unsigned records after each slice of the records it re-reads.
     */
    int checkpointAll(LongFunction<Runnable> pacing) {
        stored();
        Map<String, Long> signed = new HashMap<>();
        List<ChainHead> heads = QuarkusTransaction.requiringNew().call(() -> {
            List<ChainHead> all = em.createQuery("select h from ChainHead h", ChainHead.class).getResultList();
            for (ChainHead head : all) {
                signed.put(head.chainId, signedUpTo(head.chainId));
            }
            return all;
        });
        long records = 0;
        for (ChainHead head : heads) {
            records += Math.max(0, head.headSeq - signed.getOrDefault(head.chainId, 0L));
        }
        Runnable betweenSlices = pacing.apply(records);
        int n = 0;
        for (ChainHead head : heads) {
            if (head.headSeq > 0 && signed.getOrDefault(head.chainId, 0L) < head.headSeq
                    && sign(head.chainId, head.headSeq, head.headHash, betweenSlices).isPresent()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Signs the chain's current head if it moved since its last checkpoint. Returns the head as
     * read (seq 0 for a chain without records) and whether it is covered by a checkpoint now.
     */
    Head checkpointHead(String chain) {
        stored();
        ChainHead head = QuarkusTransaction.requiringNew().call(() -> em.find(ChainHead.class, chain));
        if (head == null || head.headSeq == 0) {
            return new Head(0, Canonical.GENESIS, true);
        }
        long signedUpTo = QuarkusTransaction.requiringNew().call(() -> signedUpTo(chain));
        boolean covered = signedUpTo >= head.headSeq || sign(chain, head.headSeq, head.headHash, NO_PAUSE).isPresent();
        return new Head(head.headSeq, head.headHash, covered);
    }

    record Head(long seq, String hash, boolean covered) {}

    /**
     * The highest seq a stored checkpoint of the chain covers, 0 without one. Read from the end of
     * the (chain_id, seq) index: a max() over the chain's checkpoints read every one of them (H2),
     * and a chain gains 8,640 a day at the default interval.
     */
    private long signedUpTo(String chain) {
        List<Long> last = em.createQuery("select c.seq from Checkpoint c where c.chainId = :c"
                + " order by c.chainId desc, c.seq desc", Long.class).setParameter("c", chain).setMaxResults(1).getResultList();
        return last.isEmpty() ? 0 : last.getFirst();
    }

    /**
     * Signs (chain, seq) now, as an export's closing checkpoint, if the record at seq is linked to
     * every earlier checkpoint. Empty when refused.
     */
    Optional<Checkpoint> signAt(String chain, long seq, String entryHash) {
        return sign(chain, seq, entryHash, NO_PAUSE);
    }

    List<Checkpoint> checkpoints(String chain) {
        return em.createQuery("select c from Checkpoint c where c.chainId = :c order by c.chainId, c.seq, c.id", Checkpoint.class)
                .setParameter("c", chain).getResultList();
    }

    /**
     * One signing at a time (each checkpoint extends the last). A scheduled run holds it through its
     * pauses, so the pauses stop while another caller waits for it (see {@link #linkProblem}): an
     * export or a verify waits for the run's CPU, as before the slices, not for up to 3 s of pauses.
     */
    private final ReentrantLock signing = new ReentrantLock();

    /** Whether a caller is waiting to sign while a run holds the lock. */
    boolean signingWanted() {
        return signing.hasQueuedThreads();
    }

    private Optional<Checkpoint> sign(String chain, long seq, String hash, Runnable betweenSlices) {
        signing.lock();
        try {
            return signLocked(chain, seq, hash, betweenSlices);
        } finally {
            signing.unlock();
        }
    }

    private Optional<Checkpoint> signLocked(String chain, long seq, String hash, Runnable betweenSlices) {
        String refusal = extensionProblem(chain, seq, hash, betweenSlices);
        if (refusal != null) {
            LOG.errorf("refusing to sign chain %s at seq %d: %s; the chain may have been rewritten", chain, seq, refusal);
            if (meters != null) {
                meters.counter("cleargate.audit.checkpoint.refusals").increment();
            }
            return Optional.empty();
        }
        Checkpoint c = new Checkpoint();
        c.chainId = chain;
        c.seq = seq;
        c.headHash = hash;
        c.signedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        c.keyId = keys.currentId();
        c.signature = keys.sign(message(chain, seq, hash, c.signedAt));
        QuarkusTransaction.requiringNew().run(() -> em.persist(c));
        witness.record(c);
        return Optional.of(c);
    }

    /**
     * Null when the record (seq, hash) and every earlier signed head (the highest stored
     * checkpoint, the witness's last) lie on one chain: walks the records between the lowest and
     * the highest of them, recomputing every link.
     *
     * <p>Each slice of {@link #PAGE} records is read in a transaction of its own, as each page was
     * already read by a statement of its own (READ COMMITTED on H2 and PostgreSQL: no snapshot spans
     * two pages either way), so the pauses hold no connection. What is signed is what was read: a
     * record rewritten after its slice was checked either breaks the link to the next slice's first
     * record or the head (both read later, so the signer refuses), or leaves the signed head
     * committing to the record as it was, which every later check against this checkpoint (the
     * verify endpoint, exports, the offline verifier) then names, as it would a rewrite made the
     * moment after signing.
     */
    private String extensionProblem(String chain, long seq, String hash, Runnable betweenSlices) {
        List<Checkpoint> anchors = new ArrayList<>();
        List<Checkpoint> stored = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select c from Checkpoint c where c.chainId = :c order by c.chainId desc, c.seq desc, c.id desc",
                Checkpoint.class).setParameter("c", chain).setMaxResults(1).getResultList());
        for (Checkpoint c : stored) {
            if (!verify(c)) {
                return "the latest stored checkpoint (seq " + c.seq + ") does not verify";
            }
            anchors.add(c);
        }
        Optional<Checkpoint> witnessed = witness.last(chain);
        if (witnessed.isPresent()) {
            if (!verify(witnessed.get())) {
                return "the witness's checkpoint (seq " + witnessed.get().seq + ") is signed by an unknown key";
            }
            anchors.add(witnessed.get());
        }
        Map<Long, String> expect = new HashMap<>();
        for (Checkpoint a : anchors) {
            String other = expect.putIfAbsent(a.seq, a.headHash);
            if (other != null && !other.equals(a.headHash)) {
                return "two signed heads at seq " + a.seq + " differ";
            }
        }
        if (expect.containsKey(seq) && !expect.get(seq).equals(hash)) {
            return "seq " + seq + " differs from its signed checkpoint";
        }
        expect.put(seq, hash);
        long lo = anchors.isEmpty() ? 1 : Math.min(seq, anchors.stream().mapToLong(a -> a.seq).min().orElseThrow());
        long hi = expect.keySet().stream().max(Comparator.naturalOrder()).orElseThrow();
        try (var bodies = new StoredBody.HashCheck()) {
            return linkProblem(chain, lo, hi, expect, bodies, betweenSlices);
        }
    }

    /** Null when the records from lo to hi are all there, each linked to the one before and matching its hashes. */
    private String linkProblem(String chain, long lo, long hi, Map<Long, String> expect, StoredBody.HashCheck bodies,
            Runnable betweenSlices) {
        long next = lo;
        String prev = lo == 1 ? Canonical.GENESIS : null;
        while (next <= hi) {
            if (next > lo && !signingWanted()) {
                betweenSlices.run();
            }
            List<Link> page = linksPage(chain, next, hi);
            if (page.isEmpty()) {
                return "the chain ends at seq " + (next - 1) + " below a signed head at seq " + hi;
            }
            for (Link e : page) {
                if (e.seq() != next) {
                    return e.seq() > next ? "seq " + next + " is missing" : "seq " + e.seq() + " is duplicated";
                }
                if (prev != null && !prev.equals(e.prevHash())) {
                    return "seq " + e.seq() + " does not link to its predecessor";
                }
                if (!Canonical.entryHash(chain, e.seq(), e.prevHash(), e.bodySha256()).equals(e.entryHash())
                        || (e.storedBody() != null && !bodies.hashesTo(e.storedBody(), e.bodySha256()))) {
                    return "seq " + e.seq() + " does not match its hash";
                }
                String signedHash = expect.get(e.seq());
                if (signedHash != null && !signedHash.equals(e.entryHash())) {
                    return "seq " + e.seq() + " differs from the head signed earlier";
                }
                prev = e.entryHash();
                next = e.seq() + 1;
            }
        }
        return null;
    }

    /**
     * One slice's records from seq {@code from}, in a transaction of its own: the columns the check
     * needs, not whole entries (no content, no persistence context), and the body in its stored
     * form, hashed from the bytes it inflates to.
     */
    private List<Link> linksPage(String chain, long from, long hi) {
        return QuarkusTransaction.requiringNew().call(() -> {
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery(LINKS_PAGE).setParameter(1, chain)
                    .setParameter(2, from).setParameter(3, hi).setMaxResults(PAGE).getResultList();
            return rows.stream().map(Link::of).toList();
        });
    }

    /** The columns of an entry the signer checks; the body as stored ({@link StoredBody}). */
    private record Link(long seq, String prevHash, String entryHash, String bodySha256, String storedBody) {
        static Link of(Object[] row) {
            return new Link(((Number) row[0]).longValue(), (String) row[1], (String) row[2], (String) row[3],
                    text(row[4]));
        }

        /** A TEXT column as read by a native query: a String on PostgreSQL, a CLOB on H2. */
        private static String text(Object value) {
            if (value instanceof java.sql.Clob clob) {
                try {
                    return clob.getSubString(1, (int) clob.length());
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException("cannot read a stored body", e);
                }
            }
            return (String) value;
        }
    }
    private void stored() {
        if (writer != null) {
            writer.awaitStored();
        }
    }
}
