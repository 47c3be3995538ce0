package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an export (format in audit/export.schema.json). A time range is widened to whole
 * sequence ranges per chain, so an export is a contiguous piece of each chain.
 */
final class Exporter {

    static final String FORMAT = "cleargate-audit-export/2";
    private static final int PAGE = 1000;
    static final List<String> CSV_COLUMNS = List.of("id", "chain", "seq", "recorded_at", "kind", "request_id", "tenant",
            "subject", "model", "region", "decision", "state", "http_status", "tags", "entry_hash");

    private final EntityManager em;
    private final CheckpointSigner signer;
    private final Writer out;
    private final boolean csv;

    Exporter(EntityManager em, CheckpointSigner signer, Writer out, boolean csv) {
        this.em = em;
        this.signer = signer;
        this.out = out;
        this.csv = csv;
    }

    /** One chain's piece of the export, fixed before anything is written. */
    private record Range(String chain, long firstSeq, String firstPrevHash, long lastSeq, String lastHash) {}

    /**
     * Writes the export: a header whose scope (filter, whole or partial, and per chain the first
     * and last record with their hashes) is signed; then per chain its records and every
     * checkpoint within its range, ending with a checkpoint signed now over its last record. The
     * signer refuses that checkpoint when the chain does not extend what it signed before; the
     * export is still written (it is evidence of the rewrite) but will not verify.
     */
    void write(List<String> chains, Map<String, Object> filter, Instant from, Instant to) {
        List<Range> ranges = new ArrayList<>();
        for (String chain : chains) {
            Range r = QuarkusTransaction.requiringNew().call(() -> range(chain, from, to));
            if (r != null) {
                ranges.add(r);
            }
        }
        header(filter, from == null, ranges);
        for (Range r : ranges) {
            if (!csv) {
                signer.signAt(r.chain(), r.lastSeq(), r.lastHash());
            }
            records(r);
            if (!csv) {
                List<Checkpoint> checkpoints = QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(r.chain()));
                checkpoints.stream().filter(c -> c.seq >= r.firstSeq() && c.seq <= r.lastSeq())
                        .forEach(c -> line(c.line()));
            }
        }
    }

    private void header(Map<String, Object> filter, boolean wholeChains, List<Range> ranges) {
        if (csv) {
            line(String.join(",", CSV_COLUMNS));
            return;
        }
        Map<String, Object> chains = new LinkedHashMap<>();
        for (Range r : ranges) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("first_seq", r.firstSeq());
            c.put("first_prev_hash", r.firstPrevHash());
            c.put("last_seq", r.lastSeq());
            c.put("last_hash", r.lastHash());
            chains.put(r.chain(), c);
        }
        Map<String, Object> scope = new LinkedHashMap<>();
        scope.put("exported_at", Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
        scope.put("filter", filter);
        scope.put("whole_chains", wholeChains);
        scope.put("chains", chains);
        String scopeText = Canonical.json(scope);
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("type", "header");
        h.put("format", FORMAT);
        h.put("scope", scopeText);
        h.put("key_id", signer.keyId());
        h.put("signature", signer.signExport(scopeText));
        h.put("signing_keys", signer.publicKeys());
        line(Canonical.json(h));
    }

    private void records(Range r) {
        long next = r.firstSeq();
        while (next <= r.lastSeq()) {
            long start = next;
            List<AuditEntry> page = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                    // chainId first, so that the database walks its (chain_id, seq) index (CheckpointSigner.LINKS_PAGE)
                    "select e from AuditEntry e where e.chainId = :c and e.seq >= :s and e.seq <= :l"
                            + " order by e.chainId, e.seq, e.id",
                    AuditEntry.class).setParameter("c", r.chain()).setParameter("s", start).setParameter("l", r.lastSeq())
                    .setMaxResults(PAGE).getResultList());
            if (page.isEmpty()) {
                break;
            }
            page.forEach(this::record);
            next = page.getLast().seq + 1;
        }
    }

    private Range range(String chain, Instant from, Instant to) {
        long[] seqs = seqRange(chain, from, to);
        if (seqs == null) {
            return null;
        }
        AuditEntry last = at(chain, seqs[1]);
        if (from == null) {
            return new Range(chain, 1, Canonical.GENESIS, seqs[1], last.entryHash);
        }
        return new Range(chain, seqs[0], at(chain, seqs[0]).prevHash, seqs[1], last.entryHash);
    }

    private AuditEntry at(String chain, long seq) {
        return em.createQuery("select e from AuditEntry e where e.chainId = :c and e.seq = :s order by e.id",
                AuditEntry.class).setParameter("c", chain).setParameter("s", seq).setMaxResults(1).getSingleResult();
    }

    private long[] seqRange(String chain, Instant from, Instant to) {
        var q = em.createQuery("select min(e.seq), max(e.seq) from AuditEntry e where e.chainId = :c"
                + (from == null ? "" : " and e.recordedAt >= :from") + (to == null ? "" : " and e.recordedAt < :to"),
                Object[].class).setParameter("c", chain);
        if (from != null) {
            q.setParameter("from", from);
        }
        if (to != null) {
            q.setParameter("to", to);
        }
        Object[] r = q.getSingleResult();
        if (r[0] == null) {
            return null;
        }
        // A whole-chain export starts at 1 so that deleted leading records show as a gap.
        return new long[] {from == null ? 1 : (Long) r[0], (Long) r[1]};
    }

    private void record(AuditEntry e) {
        if (csv) {
            List<Object> values = List.of(e.id, e.chainId, e.seq, e.recordedAt, e.kind, n(e.requestId), n(e.tenant),
                    n(e.subject), n(e.model), n(e.region), e.decision, e.state, e.httpStatus == null ? "" : e.httpStatus,
                    n(e.tags), e.entryHash);
            line(String.join(",", values.stream().map(v -> cell(String.valueOf(v))).toList()));
            return;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "record");
        m.put("id", e.id);
        m.put("chain", e.chainId);
        m.put("seq", e.seq);
        m.put("prev_hash", e.prevHash);
        m.put("body_sha256", e.bodySha256);
        m.put("entry_hash", e.entryHash);
        m.put("body", e.body);
        m.put("content", e.content);
        line(Canonical.json(m));
    }

    private static String n(String s) {
        return s == null ? "" : s;
    }

    /** RFC 4180 quoting; a leading formula character is neutralised for spreadsheet safety. */
    private static String cell(String v) {
        String s = !v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0 ? "'" + v : v;
        return s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")
                ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private void line(String s) {
        try {
            out.write(s);
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
