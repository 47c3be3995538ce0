package io.cleargate.audit;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.time.Instant;

/** A per (tenant, subject) data key or per-tenant HMAC key, wrapped by the master key. Null wrappedKey = shredded. */
@Entity
@Table(name = "audit_key")
public class ContentKey {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "audit_key_ids")
    @SequenceGenerator(name = "audit_key_ids", sequenceName = "audit_key_id_seq", allocationSize = 50)
    public Long id;
    public String tenant;
    public String subject;
    public String purpose;
    @Column(name = "wrapped_key") public String wrappedKey;
    @Column(name = "created_at") public Instant createdAt;
    @Column(name = "destroyed_at") public Instant destroyedAt;
}
