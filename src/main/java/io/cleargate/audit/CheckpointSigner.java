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
    static final int PAGE = 1000;

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
        jobs.runInBackground("checkpointing", this::checkpointAll);
    }

    /** Signs every chain head that moved since its last checkpoint; returns how many were signed. */
    public int checkpointAll() {
        stored();
        Map<String, Long> signed = new HashMap<>();
        List<ChainHead> heads = QuarkusTransaction.requiringNew().call(() -> {
            List<ChainHead> all = em.createQuery("select h from ChainHead h", ChainHead.class).getResultList();
            for (ChainHead head : all) {
                signed.put(head.chainId, signedUpTo(head.chainId));
            }
            return all;
        });
        int n = 0;
        for (ChainHead head : heads) {
            if (head.headSeq > 0 && signed.getOrDefault(head.chainId, 0L) < head.headSeq
                    && sign(head.chainId, head.headSeq, head.headHash).isPresent()) {
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
        boolean covered = signedUpTo >= head.headSeq || sign(chain, head.headSeq, head.headHash).isPresent();
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
        return sign(chain, seq, entryHash);
    }

    List<Checkpoint> checkpoints(String chain) {
        return em.createQuery("select c from Checkpoint c where c.chainId = :c order by c.chainId, c.seq, c.id", Checkpoint.class)
                .setParameter("c", chain).getResultList();
    }

    private synchronized Optional<Checkpoint> sign(String chain, long seq, String hash) {
        String refusal = QuarkusTransaction.requiringNew().call(() -> extensionProblem(chain, seq, hash));
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
     */
    private String extensionProblem(String chain, long seq, String hash) {
        List<Checkpoint> anchors = new ArrayList<>();
        List<Checkpoint> stored = em.createQuery("select c from Checkpoint c where c.chainId = :c"
                + " order by c.chainId desc, c.seq desc, c.id desc",
                Checkpoint.class).setParameter("c", chain).setMaxResults(1).getResultList();
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
            return linkProblem(chain, lo, hi, expect, bodies);
        }
    }

    /** Null when the records from lo to hi are all there, each linked to the one before and matching its hashes. */
    private String linkProblem(String chain, long lo, long hi, Map<Long, String> expect, StoredBody.HashCheck bodies) {
        long next = lo;
        String prev = lo == 1 ? Canonical.GENESIS : null;
        while (next <= hi) {
            long from = next;
            // The columns the check needs, not whole entries (no content, no persistence context),
            // and the body in its stored form, hashed from the bytes it inflates to.
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery(LINKS_PAGE).setParameter(1, chain)
                    .setParameter(2, from).setParameter(3, hi).setMaxResults(PAGE).getResultList();
            List<Link> page = rows.stream().map(Link::of).toList();
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
