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
 */
public record Principal(String tenant, String subject, Set<String> roles, AuthMethod authMethod) {

    public static final Exchange.Key<Principal> KEY = Exchange.Key.of("principal", Principal.class);

    public enum AuthMethod { JWT, API_KEY }

    public Principal {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(subject, "subject");
        roles = Set.copyOf(roles);
        Objects.requireNonNull(authMethod, "authMethod");
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }
}
