package io.cleargate.audit;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

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
}
