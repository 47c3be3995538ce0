package io.cleargate.audit;

import io.cleargate.identity.Authenticator;
import io.cleargate.identity.Principal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;

/** Compliance API callers, verified by the identity feature (Keycloak token or API key). */
@ApplicationScoped
public class AuthenticatedAuditCaller implements AuditCaller {

    private final Authenticator authenticator;

    @Inject
    public AuthenticatedAuditCaller(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public Optional<Principal> resolve(String authorizationHeader) {
        return authenticator.tryAuthenticate(authorizationHeader);
    }
}
