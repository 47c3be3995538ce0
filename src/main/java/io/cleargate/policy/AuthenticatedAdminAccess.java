package io.cleargate.policy;

import io.cleargate.identity.Authenticator;
import io.cleargate.identity.Principal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;

/**
 * Policy administration's callers, verified by the identity feature (Keycloak token or API key).
 * The bootstrap token stays as a fallback only where it is configured (tests, first setup).
 */
@ApplicationScoped
public class AuthenticatedAdminAccess implements PolicyAdminAccess {

    private final Authenticator authenticator;
    private final BootstrapAdminAccess bootstrap;

    @Inject
    public AuthenticatedAdminAccess(Authenticator authenticator, PolicyConfig config) {
        this.authenticator = authenticator;
        this.bootstrap = new BootstrapAdminAccess(config);
    }

    @Override
    public Optional<Principal> resolve(String authorizationHeader) {
        Optional<Principal> bootstrapped = bootstrap.resolve(authorizationHeader);
        if (bootstrapped.isPresent()) {
            return bootstrapped;
        }
        return authenticator.tryAuthenticate(authorizationHeader);
    }
}
