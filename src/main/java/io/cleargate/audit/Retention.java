package io.cleargate.audit;

import io.cleargate.identity.AdminEvents;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.Map;

/**
 * Retention per data class, and erasure. Purging removes content (and, later, metadata bodies)
 * but never a chain link: entry hashes commit to body_sha256 and the body to the content's hash,
 * so the chain still verifies after a purge. Tenants under legal hold are skipped.
 */
@ApplicationScoped
public class Retention {

    private static final String NOT_HELD = " and (e.tenant is null or e.tenant not in (select h.tenant from LegalHold h))";

    public record Purged(int content, int metadata) {}

    private final EntityManager em;
    private final Keyring keyring;
    private final AdminEvents events;

    /** Reclaims what a purge freed (VACUUM, compaction); optional so retention also runs outside CDI. */
    @Inject
    StoreHousekeeping housekeeping;

    @Inject
    ScheduledJobs jobs;

    /** Readers wait for every acknowledged record to be in the database (see {@link AuditWriter#awaitStored()}). */
    @Inject
    AuditWriter writer;

    @Inject
    public Retention(EntityManager em, Keyring keyring, AdminEvents events) {
        this.em = em;
        this.keyring = keyring;
        this.events = events;
    }

    @Scheduled(every = "${cleargate.audit.purge-every:1h}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        jobs.run("retention purge", () -> purge(Instant.now()));
    }

    public Purged purge(Instant now) {
        stored();
        Purged purged = QuarkusTransaction.requiringNew().call(() -> {
            int content = em.createQuery("update AuditEntry e set e.content = null where e.content is not null"
                    + " and e.contentExpiresAt < :now" + NOT_HELD).setParameter("now", now).executeUpdate();
            int metadata = em.createQuery("update AuditEntry e set e.body = null, e.content = null, e.subject = null,"
                    + " e.username = null, e.email = null,"
                    + " e.model = null, e.region = null, e.tags = '|' where e.body is not null"
                    + " and e.metadataExpiresAt < :now" + NOT_HELD).setParameter("now", now).executeUpdate();
            return new Purged(content, metadata);
        });
        if (purged.content() + purged.metadata() > 0) {
            events.record(null, "retention", "retention_purge",
                    Map.of("content_purged", purged.content(), "metadata_purged", purged.metadata(), "before", now.toString()));
            if (housekeeping != null) {
                housekeeping.afterPurge();
            }
        }
        return purged;
    }

    /** An erasure refused because the tenant's trail is under legal hold. */
    public static final class LegalHoldActive extends RuntimeException {
        LegalHoldActive(String tenant) {
            super("Tenant " + tenant + " is under legal hold; nothing may be erased until the hold is released.");
        }
    }

    /**
     * Erases a subject's (or, with subject null, a whole tenant's) content: destroys the data keys
     * (crypto-shredding of encrypted content) and drops redacted and hashed content. Refused while
     * the tenant is under legal hold. The erasure is recorded before anything is destroyed (no
     * record, no erasure) and its completion after, so the trail shows every erasure attempted.
     */
    public int erase(String tenant, String subject, String actor) {
        stored();
        if (held(tenant)) {
            throw new LegalHoldActive(tenant);
        }
        var details = new java.util.LinkedHashMap<String, Object>();
        details.put("subject", subject);
        events.record(tenant, actor, "erasure_started", details);
        int keys = keyring.destroy(tenant, subject);
        int dropped = QuarkusTransaction.requiringNew().call(() -> {
            var q = em.createQuery("update AuditEntry e set e.content = null where e.tenant = :t and e.content is not null"
                    + " and e.contentMode <> 'encrypted'" + (subject == null ? "" : " and e.subject = :s"))
                    .setParameter("t", tenant);
            if (subject != null) {
                q.setParameter("s", subject);
            }
            return q.executeUpdate();
        });
        details.put("keys_destroyed", keys);
        details.put("plain_content_dropped", dropped);
        events.record(tenant, actor, "erasure_completed", details);
        return keys;
    }

    /** Whether the tenant's trail is under legal hold. */
    public boolean held(String tenant) {
        return QuarkusTransaction.requiringNew().call(() -> em.find(LegalHold.class, tenant) != null);
    }
    private void stored() {
        if (writer != null) {
            writer.awaitStored();
        }
    }
}
