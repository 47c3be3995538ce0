package io.cleargate.audit;

import io.cleargate.identity.Principal;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.util.Optional;
import java.util.Set;

/** Test credentials "Bearer test|role|tenant|subject" until identity's authenticator is wired in. */
@Alternative
@Priority(1)
@ApplicationScoped
public class TestAuditCaller implements AuditCaller {

    public static String bearer(String role, String tenant, String subject) {
        return "Bearer test|" + role + "|" + tenant + "|" + subject;
    }

    @Override
    public Optional<Principal> resolve(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer test|")) {
            return Optional.empty();
        }
        String[] parts = authorization.substring("Bearer test|".length()).split("\\|");
        if (parts.length != 3) {
            return Optional.empty();
        }
        return Optional.of(new Principal(parts[1], parts[2], Set.of(parts[0]), Principal.AuthMethod.JWT));
    }
}
