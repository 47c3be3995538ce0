package io.cleargate.audit;

import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * One link of a hash chain. The evidence is {@code body} (canonical JSON, see {@link Canonical}),
 * bound into the chain by {@code bodySha256} and {@code entryHash}. The other columns are copies
 * of body members kept for search; the verifier checks they still match the body.
 */
@Entity
@Table(name = "audit_entry")
public class AuditEntry {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "audit_entry_ids")
    @SequenceGenerator(name = "audit_entry_ids", sequenceName = "audit_entry_id_seq", allocationSize = 50)
    public Long id;

    @Column(name = "chain_id") public String chainId;
    public long seq;
    public String kind;
    @Column(name = "request_id") public String requestId;
    @Column(name = "recorded_at") public Instant recordedAt;
    public String tenant;
    public String subject;
    /** Lower-cased user name and e-mail from authentication (search columns; the body holds them too). */
    public String username;
    public String email;
    public String model;
    public String region;
    public String decision;
    public String state;
    @Column(name = "http_status") public Integer httpStatus;
    public String tags;
    /** The canonical JSON; stored deflated ({@link StoredBody}), hashed as JSON. */
    @Convert(converter = StoredBody.class)
    @Column(columnDefinition = "text") public String body;
    @Column(name = "body_sha256") public String bodySha256;
    @Column(name = "prev_hash") public String prevHash;
    @Column(name = "entry_hash") public String entryHash;
    @Column(columnDefinition = "text") public String content;
    @Column(name = "content_mode") public String contentMode;
    @Column(name = "content_expires_at") public Instant contentExpiresAt;
    @Column(name = "metadata_expires_at") public Instant metadataExpiresAt;
}
