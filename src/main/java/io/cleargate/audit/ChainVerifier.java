package io.cleargate.audit;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Re-walks a chain in the database and names the first sequence number that does not verify:
 * a gap (deleted record), a duplicate (inserted record), a broken link (reordered record), a body
 * or index column that no longer matches its hash (edited record), a body or content removed
 * before its retention expired, a record that differs from a signed checkpoint (stored or in the
 * witness), a chain that ends below its last signed checkpoint (truncation), or records that no
 * signed checkpoint covers. It first asks the signer to sign the head, which the signer refuses
 * when the head does not extend what it signed before, so a rewritten chain stays uncovered.
 */
@ApplicationScoped
public class ChainVerifier {

    /** @param firstBadSeq null when the chain verifies */
    public record Result(String chain, long records, long headSeq, Long firstBadSeq, String problem,
            int checkpointsVerified) {
        public boolean ok() {
            return firstBadSeq == null;
        }
    }

    private static final int PAGE = 1000;

    private final EntityManager em;
    private final CheckpointSigner signer;
    private final MeterRegistry meters;

    /** Readers wait for every acknowledged record to be in the database (see {@link AuditWriter#awaitStored()}). */
    @Inject
    AuditWriter writer;

    @Inject
    public ChainVerifier(EntityManager em, CheckpointSigner signer, MeterRegistry meters) {
        this.em = em;
        this.signer = signer;
        this.meters = meters;
    }

    public List<String> chains() {
        stored();
        return QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select h.chainId from ChainHead h order by h.chainId", String.class).getResultList());
    }

    public Result verify(String chain) {
        stored();
        CheckpointSigner.Head head = signer.checkpointHead(chain);
        Result result = QuarkusTransaction.requiringNew().call(() -> walk(chain, head));
        if (meters != null) {
            meters.counter("cleargate.audit.chain.verifications", "result", result.ok() ? "ok" : "failed").increment();
        }
        return result;
    }

    /** Walks seq 1 .. the head read before signing; records appended since wait for the next verification. */
    private Result walk(String chain, CheckpointSigner.Head head) {
        List<Checkpoint> checkpoints = new ArrayList<>(signer.checkpoints(chain));
        // The witness's copy counts unless it is one of the stored checkpoints.
        signer.witnessed(chain).filter(w -> checkpoints.stream().noneMatch(c -> c.signature.equals(w.signature)))
                .ifPresent(checkpoints::add);
        Map<Long, List<Checkpoint>> bySeq = new HashMap<>();
        checkpoints.forEach(c -> bySeq.computeIfAbsent(c.seq, s -> new ArrayList<>()).add(c));
        List<Erasure> erasures = erasures(chain);
        Instant now = Instant.now();
        long expected = 1;
        String prevHash = Canonical.GENESIS;
        long count = 0;
        long coveredUpTo = 0;
        int verifiedCheckpoints = 0;
        while (expected <= head.seq()) {
            // chainId first, so that the database walks its (chain_id, seq) index (CheckpointSigner.LINKS_PAGE)
            List<AuditEntry> page = em.createQuery("select e from AuditEntry e where e.chainId = :c and e.seq >= :s"
                    + " and e.seq <= :h order by e.chainId, e.seq, e.id", AuditEntry.class)
                    .setParameter("c", chain).setParameter("s", expected).setParameter("h", head.seq())
                    .setMaxResults(PAGE).getResultList();
            if (page.isEmpty()) {
                break;
            }
            for (AuditEntry e : page) {
                String problem = check(e, expected, prevHash, now, erasures);
                if (problem != null) {
                    return new Result(chain, count, expected - 1, expected, problem, verifiedCheckpoints);
                }
                for (Checkpoint c : bySeq.getOrDefault(e.seq, List.of())) {
                    if (!signer.verify(c)) {
                        return new Result(chain, count, e.seq, e.seq, "checkpoint signature invalid", verifiedCheckpoints);
                    }
                    if (!c.headHash.equals(e.entryHash)) {
                        return new Result(chain, count, e.seq, e.seq, "differs from the signed checkpoint", verifiedCheckpoints);
                    }
                    coveredUpTo = e.seq;
                    verifiedCheckpoints++;
                }
                prevHash = e.entryHash;
                expected = e.seq + 1;
                count++;
            }
            em.clear();
        }
        long last = expected - 1;
        for (Checkpoint c : checkpoints) {
            if (c.seq > last && c.seq <= head.seq() && signer.verify(c)) {
                return new Result(chain, count, last, last + 1,
                        "truncated: signed checkpoint at seq " + c.seq + " but the chain ends at " + last, verifiedCheckpoints);
            }
            if (c.seq > head.seq() && signer.verify(c) && !hasRecord(chain, c.seq)) {
                return new Result(chain, count, last, head.seq() + 1, "truncated: signed checkpoint at seq " + c.seq
                        + " but the chain head says " + head.seq(), verifiedCheckpoints);
            }
        }
        if (last != head.seq() || !head.hash().equals(prevHash)) {
            return new Result(chain, count, last, Math.min(last, head.seq()) + 1,
                    "chain head says seq " + head.seq() + " but the chain ends at " + last, verifiedCheckpoints);
        }
        if (coveredUpTo < last) {
            return new Result(chain, count, last, coveredUpTo + 1, "records " + (coveredUpTo + 1) + ".." + last
                    + " are not covered by a signed checkpoint (the signer refused the head; see its log)",
                    verifiedCheckpoints);
        }
        return new Result(chain, count, last, null, null, verifiedCheckpoints);
    }

    private boolean hasRecord(String chain, long seq) {
        return em.createQuery("select count(e) from AuditEntry e where e.chainId = :c and e.seq = :s", Long.class)
                .setParameter("c", chain).setParameter("s", seq).getSingleResult() > 0;
    }

    /** An erasure recorded in the chain: it may have emptied earlier content of the subject (all when null). */
    private record Erasure(long seq, String subject) {}

    private List<Erasure> erasures(String chain) {
        List<Erasure> out = new ArrayList<>();
        for (Object[] row : em.createQuery("select e.seq, e.body from AuditEntry e where e.chainId = :c"
                + " and e.kind = 'admin' and e.tags like '|admin:erasure%'", Object[].class)
                .setParameter("c", chain).getResultList()) {
            if (row[1] instanceof String body && Canonical.parse(body).get("details") instanceof Map<?, ?> details) {
                out.add(new Erasure((Long) row[0], details.get("subject") == null ? null : details.get("subject").toString()));
            }
        }
        return out;
    }

    private static String check(AuditEntry e, long expected, String prevHash, Instant now, List<Erasure> erasures) {
        if (e.seq > expected) {
            return "missing record (seq " + expected + " absent)";
        }
        if (e.seq < expected) {
            return "duplicate sequence number";
        }
        if (!prevHash.equals(e.prevHash)) {
            return "broken link: prev_hash does not match the previous record";
        }
        if (!Canonical.entryHash(e.chainId, e.seq, e.prevHash, e.bodySha256).equals(e.entryHash)) {
            return "entry hash does not match";
        }
        if (e.body == null) {
            if (e.metadataExpiresAt == null || !e.metadataExpiresAt.isBefore(now)) {
                return "body removed before its metadata retention expired";
            }
            return IndexColumns.purgedShape(e) ? null : "index columns of a purged record were kept";
        }
        if (!Canonical.sha256(e.body).equals(e.bodySha256)) {
            return "body does not match its hash";
        }
        Map<String, Object> body = Canonical.parse(e.body);
        String column = IndexColumns.of(body).mismatch(e);
        if (column == null && (!Objects.equals(body.get("username"), e.username)
                || !Objects.equals(body.get("email"), e.email))) {
            column = "username/email";
        }
        if (column != null) {
            return "index columns do not match the body (" + column + ")";
        }
        if (body.get("content") instanceof Map<?, ?> ref) {
            if (e.content != null && !Canonical.sha256(e.content).equals(ref.get("sha256"))) {
                return "content does not match its commitment";
            }
            if (e.content == null && !(e.contentExpiresAt != null && e.contentExpiresAt.isBefore(now))
                    && !erased(e.seq, body.get("subject"), erasures)) {
                return "content removed before its retention expired, without an erasure";
            }
        }
        return null;
    }

    private static boolean erased(long seq, Object subject, List<Erasure> erasures) {
        return erasures.stream().anyMatch(x -> x.seq() > seq && (x.subject() == null || Objects.equals(x.subject(), subject)));
    }
    private void stored() {
        if (writer != null) {
            writer.awaitStored();
        }
    }
}
