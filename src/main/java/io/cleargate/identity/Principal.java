package io.cleargate.identity;

import io.cleargate.pipeline.Exchange;
import java.util.Objects;
import java.util.Set;

/**
 * Who is calling, as established by a verified credential: never by the caller's own claims in
 * the body, path or headers. Both authentication paths (Keycloak JWT and API key) produce one.
 *
 * @param tenant     tenant id from a verified token claim or the API key's record
 * @param subject    user or service-account id
 * @param roles      gateway roles (see {@link Roles})
 * @param authMethod how the credential was verified
 * @param username   the person's user name as the identity provider states it (a token's
 *                   {@code preferred_username}, an API key's name), at most {@value #MAX_NAME} characters; may be null
 * @param email      the person's e-mail from a verified token, at most {@value #MAX_NAME} characters; may be null
 */
public record Principal(String tenant, String subject, Set<String> roles, AuthMethod authMethod, String username,
        String email) {

    /** Names come from tokens and key records: kept bounded before they reach the audit trail. */
    public static final int MAX_NAME = 200;

    public static final Exchange.Key<Principal> KEY = Exchange.Key.of("principal", Principal.class);

    /** PLATFORM: the gateway's own requests (see {@link PlatformIdentity}); never a client's credential. */
    public enum AuthMethod { JWT, API_KEY, PLATFORM }

    public Principal {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(subject, "subject");
        roles = Set.copyOf(roles);
        Objects.requireNonNull(authMethod, "authMethod");
        username = bounded(username);
        email = bounded(email);
    }

    /** A principal known only by its subject (no user name or e-mail). */
    public Principal(String tenant, String subject, Set<String> roles, AuthMethod authMethod) {
        this(tenant, subject, roles, authMethod, null, null);
    }

    private static String bounded(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        String trimmed = s.strip();
        return trimmed.length() > MAX_NAME ? trimmed.substring(0, MAX_NAME) : trimmed;
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }
}
