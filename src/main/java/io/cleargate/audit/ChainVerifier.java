package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Re-walks a chain in the database and names the first sequence number that does not verify:
 * a gap (deleted record), a duplicate (inserted record), a broken link (reordered record), a body
 * or index column that no longer matches its hash (edited record), or a chain that ends below its
 * last signed checkpoint or head (truncation).
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

    @Inject
    public ChainVerifier(EntityManager em, CheckpointSigner signer) {
        this.em = em;
        this.signer = signer;
    }

    public List<String> chains() {
        return QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select h.chainId from ChainHead h order by h.chainId", String.class).getResultList());
    }

    @jakarta.inject.Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    public Result verify(String chain) {
        Result result = QuarkusTransaction.requiringNew().call(() -> walk(chain));
        if (meters != null) {
            meters.counter("cleargate.audit.chain.verifications", "result", result.firstBadSeq() == null ? "ok" : "failed")
                    .increment();
        }
        return result;
    }

    private Result walk(String chain) {
        List<Checkpoint> checkpoints = signer.checkpoints(chain);
        Map<Long, List<Checkpoint>> bySeq = checkpoints.stream()
                .collect(java.util.stream.Collectors.groupingBy(c -> c.seq));
        long expected = 1;
        String prevHash = Canonical.GENESIS;
        long count = 0;
        int verifiedCheckpoints = 0;
        while (true) {
            List<AuditEntry> page = em.createQuery("select e from AuditEntry e where e.chainId = :c and e.seq >= :s"
                    + " order by e.seq, e.id", AuditEntry.class)
                    .setParameter("c", chain).setParameter("s", expected).setMaxResults(PAGE).getResultList();
            if (page.isEmpty()) {
                break;
            }
            for (AuditEntry e : page) {
                String problem = check(e, expected, prevHash);
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
            if (c.seq > last && signer.verify(c)) {
                return new Result(chain, count, last, last + 1,
                        "truncated: signed checkpoint at seq " + c.seq + " but the chain ends at " + last, verifiedCheckpoints);
            }
        }
        ChainHead head = em.find(ChainHead.class, chain);
        if (head != null && (head.headSeq != last || !head.headHash.equals(prevHash))) {
            return new Result(chain, count, last, Math.min(last, head.headSeq) + 1,
                    "chain head says seq " + head.headSeq + " but the chain ends at " + last, verifiedCheckpoints);
        }
        return new Result(chain, count, last, null, null, verifiedCheckpoints);
    }

    private static String check(AuditEntry e, long expected, String prevHash) {
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
        if (e.body != null) {
            if (!Canonical.sha256(e.body).equals(e.bodySha256)) {
                return "body does not match its hash";
            }
            Map<String, Object> body = Canonical.parse(e.body);
            if (!Objects.equals(body.get("kind"), e.kind) || !Objects.equals(body.get("tenant"), e.tenant)
                    || !Objects.equals(body.get("request_id"), e.requestId)
                    || !Objects.equals(body.get("time"), e.recordedAt.toString())
                    || !Objects.equals(body.get("username"), e.username) || !Objects.equals(body.get("email"), e.email)) {
                return "index columns do not match the body";
            }
            if (e.content != null && body.get("content") instanceof Map<?, ?> ref
                    && !Canonical.sha256(e.content).equals(ref.get("sha256"))) {
                return "content does not match its commitment";
            }
        }
        return null;
    }
}
