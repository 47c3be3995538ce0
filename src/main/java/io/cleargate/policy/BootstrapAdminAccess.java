package io.cleargate.policy;

import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;

/**
 * Stand-in until identity provides the real authenticator: accepts one configured development
 * token ({@code cleargate.policy.admin.bootstrap-token}) as a policy-admin of the dev tenant.
 * Without that setting nobody gets in.
 */
public class BootstrapAdminAccess implements PolicyAdminAccess {

    private final Optional<String> token;

    public BootstrapAdminAccess(PolicyConfig config) {
        this.token = config.admin().bootstrapToken().filter(t -> !t.isBlank());
    }

    @Override
    public Optional<Principal> resolve(String authorizationHeader) {
        if (token.isEmpty() || authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) {
            return Optional.empty();
        }
        byte[] given = authorizationHeader.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token.get().getBytes(StandardCharsets.UTF_8))) {
            return Optional.empty();
        }
        return Optional.of(new Principal("dev", "policy-bootstrap", Set.of(Roles.POLICY_ADMIN),
                Principal.AuthMethod.API_KEY));
    }
}
