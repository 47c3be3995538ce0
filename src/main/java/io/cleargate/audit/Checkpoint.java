package io.cleargate.audit;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.util.LinkedHashMap;
import java.util.Map;

/** An Ed25519 signature over a chain head; see {@link CheckpointSigner#message}. */
@Entity
@Table(name = "audit_checkpoint")
public class Checkpoint {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "audit_checkpoint_ids")
    @SequenceGenerator(name = "audit_checkpoint_ids", sequenceName = "audit_checkpoint_id_seq", allocationSize = 50)
    public Long id;
    @Column(name = "chain_id") public String chainId;
    public long seq;
    @Column(name = "head_hash") public String headHash;
    @Column(name = "signed_at") public String signedAt;
    @Column(name = "key_id") public String keyId;
    public String signature;

    /** The checkpoint as one export or witness line (format in audit/export.schema.json). */
    String line() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "checkpoint");
        m.put("chain", chainId);
        m.put("seq", seq);
        m.put("head_hash", headHash);
        m.put("signed_at", signedAt);
        m.put("key_id", keyId);
        m.put("signature", signature);
        return Canonical.json(m);
    }

    static Checkpoint of(Map<String, Object> line) {
        Checkpoint c = new Checkpoint();
        c.chainId = (String) line.get("chain");
        c.seq = ((Number) line.get("seq")).longValue();
        c.headHash = (String) line.get("head_hash");
        c.signedAt = (String) line.get("signed_at");
        c.keyId = (String) line.get("key_id");
        c.signature = (String) line.get("signature");
        return c;
    }
}
