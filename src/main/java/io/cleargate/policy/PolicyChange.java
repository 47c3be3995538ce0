package io.cleargate.policy;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.OffsetDateTime;

/** One activation or rollback of the policies: who, when, what (diff) and the tree it replaced. */
@Entity
@Table(name = "policy_history")
public class PolicyChange {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "changed_at", nullable = false)
    public OffsetDateTime changedAt;

    @Column(nullable = false)
    public String author;

    @Column(name = "author_tenant", nullable = false)
    public String authorTenant;

    /** activate or rollback. */
    @Column(nullable = false)
    public String action;

    public String message;

    @Column(nullable = false)
    public String revision;

    @Column(name = "previous_revision", nullable = false)
    public String previousRevision;

    /** Comma-separated paths the change touched. */
    @Column(nullable = false)
    public String files;

    @Column(nullable = false, columnDefinition = "text")
    public String diff;

    /** The whole tree before the change, as a JSON object of path to content, for rollback. */
    @Column(name = "snapshot_before", nullable = false, columnDefinition = "text")
    public String snapshotBefore;

    /** The files the change wrote, as JSON (path to content, null for deleted); null before V310. */
    @Column(columnDefinition = "text")
    public String changes;
}
