package io.cleargate.audit;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** While a tenant has a hold, retention purges skip its records. */
@Entity
@Table(name = "audit_legal_hold")
public class LegalHold {
    @Id public String tenant;
    public String reason;
    @Column(name = "set_by") public String setBy;
    @Column(name = "set_at") public Instant setAt;
}
