package io.cleargate.audit;

import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;

/**
 * Fallback until the identity feature's authenticator is wired in: refuses everyone, except that
 * with {@code cleargate.audit.dev-caller-enabled=true} the development key file
 * (data-dir/dev-key) authenticates as an auditor, for the local CLI.
 */
@ApplicationScoped
@DefaultBean
public class DevAuditCaller implements AuditCaller {

    private final AuditConfig config;

    @Inject
    public DevAuditCaller(AuditConfig config) {
        this.config = config;
    }

    @Override
    public Optional<Principal> resolve(String authorization) {
        if (!config.devCallerEnabled() || authorization == null || !authorization.startsWith("Bearer ")) {
            return Optional.empty();
        }
        Path file = Path.of(config.dataDir(), "dev-key");
        try {
            String key = Files.readString(file, StandardCharsets.UTF_8).strip();
            byte[] given = authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8);
            if (!key.isEmpty() && MessageDigest.isEqual(key.getBytes(StandardCharsets.UTF_8), given)) {
                return Optional.of(new Principal("dev", "dev-key", Set.of(Roles.AUDITOR, Roles.COMPLIANCE_OFFICER),
                        Principal.AuthMethod.API_KEY));
            }
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
