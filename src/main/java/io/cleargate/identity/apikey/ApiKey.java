package io.cleargate.identity.apikey;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * An API key's record: everything but the secret, of which only a hash is kept.
 *
 * @param id         stable id used by the admin API
 * @param prefix     public lookup handle (the key reads {@code cg_<prefix>_<secret>})
 * @param tenant     the tenant every request made with the key belongs to
 * @param name       what the key is for, chosen by its creator
 * @param roles      gateway roles the key grants
 * @param createdBy  subject of the gateway-admin who created it
 * @param createdAt  creation time
 * @param expiresAt  the key is refused from this instant on
 * @param revokedAt  set once revoked; a revoked key is refused for good
 * @param revokedBy  subject who revoked it
 */
public record ApiKey(String id, String prefix, String tenant, String name, Set<String> roles, String createdBy,
        Instant createdAt, Instant expiresAt, Instant revokedAt, String revokedBy) {

    public ApiKey {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(name, "name");
        roles = Set.copyOf(roles);
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    public boolean revoked() {
        return revokedAt != null;
    }

    public boolean expiredAt(Instant now) {
        return !now.isBefore(expiresAt);
    }
}
