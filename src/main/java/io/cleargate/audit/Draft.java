package io.cleargate.audit;

import java.time.Instant;

/**
 * An audit entry as a caller builds it, before the writer gives it a place (sequence number and hash)
 * in its chain; {@link AuditWriter#append} takes it.
 */
public record Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
        String model, String region, String decision, String state, Integer httpStatus, String tags,
        String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt,
        String username, String email, Charge charge) {

    /** A draft that charges nothing. */
    public Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
            String model, String region, String decision, String state, Integer httpStatus, String tags,
            String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt,
            String username, String email) {
        this(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision, state, httpStatus, tags,
                body, content, contentMode, contentExpiresAt, metadataExpiresAt, username, email, null);
    }

    /** A draft of an entry that names no person (admin events, tests). */
    public Draft(String chain, String kind, String requestId, Instant recordedAt, String tenant, String subject,
            String model, String region, String decision, String state, Integer httpStatus, String tags,
            String body, String content, String contentMode, Instant contentExpiresAt, Instant metadataExpiresAt) {
        this(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision, state, httpStatus, tags,
                body, content, contentMode, contentExpiresAt, metadataExpiresAt, null, null);
    }
}
