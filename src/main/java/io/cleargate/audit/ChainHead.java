package io.cleargate.audit;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** The head of one hash chain; locked for update by every batch that appends to it. */
@Entity
@Table(name = "audit_chain")
public class ChainHead {
    @Id @Column(name = "chain_id") public String chainId;
    @Column(name = "head_seq") public long headSeq;
    @Column(name = "head_hash") public String headHash;
    @Column(name = "updated_at") public Instant updatedAt;
}
