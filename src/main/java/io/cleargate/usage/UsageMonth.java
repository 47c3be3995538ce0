package io.cleargate.usage;

import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import jakarta.persistence.EmbeddedId;
import jakarta.persistence.Entity;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/**
 * One month of one key's (or user's) use of one model in one tenant: the aggregate that budgets and
 * {@code GET /admin/usage} read, so neither ever scans the audit trail.
 */
@Entity
@Table(name = "usage_month")
public class UsageMonth {

    /** Tenant, period (the UTC month, "2026-11"), subject and model: the key, tenant and period first for the sums. */
    @Embeddable
    public static class Id implements Serializable {
        public String tenant;
        public String period;
        public String subject;
        public String model;

        public Id() {}

        Id(String tenant, String period, String subject, String model) {
            this.tenant = tenant;
            this.period = period;
            this.subject = subject;
            this.model = model;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Id other && tenant.equals(other.tenant) && period.equals(other.period)
                    && subject.equals(other.subject) && model.equals(other.model);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenant, period, subject, model);
        }
    }

    @EmbeddedId public Id id;
    public long requests;
    @Column(name = "estimated_requests") public long estimatedRequests;
    @Column(name = "prompt_tokens") public long promptTokens;
    @Column(name = "completion_tokens") public long completionTokens;
    @Column(name = "cost_nanos") public long costNanos;
    public String currency;
    @Column(name = "updated_at") public Instant updatedAt;
}
