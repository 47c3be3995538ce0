package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an export (format in audit/export.schema.json). A time range is widened to whole
 * sequence ranges per chain, so an export is a contiguous piece of each chain; checkpoints are
 * read before records so a checkpoint never claims more than the export holds.
 */
final class Exporter {

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

    void header(Map<String, Object> filter, boolean wholeChains) {
        if (csv) {
            line(String.join(",", CSV_COLUMNS));
            return;
        }
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("type", "header");
        h.put("format", "cleargate-audit-export/1");
        h.put("exported_at", Instant.now().toString());
        h.put("filter", filter);
        h.put("whole_chains", wholeChains);
        h.put("signing_keys", Map.of(signer.keyId(), signer.publicKeyHex()));
        line(Canonical.json(h));
    }

    void chain(String chain, Instant from, Instant to) {
        List<Checkpoint> checkpoints = QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(chain));
        long[] range = QuarkusTransaction.requiringNew().call(() -> seqRange(chain, from, to));
        if (range == null) {
            return;
        }
        long next = range[0];
        long last = range[1];
        while (next <= last) {
            long start = next;
            List<AuditEntry> page = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                    "select e from AuditEntry e where e.chainId = :c and e.seq >= :s and e.seq <= :l order by e.seq, e.id",
                    AuditEntry.class).setParameter("c", chain).setParameter("s", start).setParameter("l", last)
                    .setMaxResults(PAGE).getResultList());
            if (page.isEmpty()) {
                break;
            }
            page.forEach(this::record);
            next = page.getLast().seq + 1;
        }
        if (!csv) {
            for (Checkpoint c : checkpoints) {
                // Checkpoints past the range are kept only for an open-ended export: they reveal truncation.
                if (c.seq >= range[0] && (c.seq <= last || to == null)) {
                    checkpoint(c);
                }
            }
        }
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

    private void checkpoint(Checkpoint c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "checkpoint");
        m.put("chain", c.chainId);
        m.put("seq", c.seq);
        m.put("head_hash", c.headHash);
        m.put("signed_at", c.signedAt);
        m.put("key_id", c.keyId);
        m.put("signature", c.signature);
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
