package io.cleargate.identity.apikey;

import io.cleargate.identity.Roles;
import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Development only ({@code cleargate.dev.create-key=true}, set by {@code bin/cleargate up}): makes
 * sure a development tenant and an API key holding every role exist, so the gateway can be called
 * at once. The key is CLEARGATE_DEV_KEY when set (it must have the key format), else the one kept
 * in {@code cleargate.dev.key-file} from an earlier start, else a new one written there (mode 600).
 * The key itself is never logged.
 *
 * <p>The key expires after {@code cleargate.dev.key-lifetime} (days, not a year), and a gateway
 * started without the development setting revokes it: a database that once served development
 * never carries an every-role key into another deployment.
 */
@ApplicationScoped
public class DevKeyBootstrap {

    private static final Logger LOG = Logger.getLogger(DevKeyBootstrap.class);
    static final String DEV_KEY_NAME = "development key (bin/cleargate up)";
    /** The creator recorded on the development key (no person created it). */
    static final String CREATED_BY = "cleargate";
    /** Who revokes the development key when the gateway starts without the development setting. */
    static final String AUTO_REVOKER = "cleargate (started without cleargate.dev.create-key)";

    @Inject
    DevKeyConfig config;

    @Inject
    TenantRegistry tenants;

    @Inject
    ApiKeyService service;

    @Inject
    ApiKeyStore store;

    void onStart(@Observes StartupEvent event) throws IOException {
        if (!config.createKey()) {
            int revoked = store.revokeNamed(DEV_KEY_NAME, CREATED_BY, AUTO_REVOKER, Instant.now());
            if (revoked > 0) {
                LOG.warnf("revoked %d development API key(s): this gateway runs without the development setting", revoked);
            }
            return;
        }
        String tenant = config.tenant();
        Path keyFile = config.keyFile();
        tenants.createIfAbsent(new Tenant(tenant, "Development tenant", "EU", true));
        Optional<String> given = config.key().filter(k -> !k.isBlank());
        if (given.isPresent()) {
            ApiKeyFormat.Parsed parsed = ApiKeyFormat.parse(given.get().strip()).orElseThrow(() ->
                    new IllegalStateException("CLEARGATE_DEV_KEY does not have the API key format cg_<8 hex>_<64 hex>;"
                            + " unset it to have one generated"));
            ensure(parsed, tenant);
            LOG.infof("development API key from CLEARGATE_DEV_KEY is active for tenant %s", tenant);
            return;
        }
        Optional<ApiKeyFormat.Parsed> previous = readKeyFile(keyFile).filter(k -> stillValid(k, tenant));
        if (previous.isPresent()) {
            LOG.infof("development API key in %s is active for tenant %s", keyFile, tenant);
            return;
        }
        ApiKeyService.Created created = service.createUnchecked(tenant, DEV_KEY_NAME, new HashSet<>(Roles.ALL),
                config.keyLifetime(), null);
        writeKeyFile(keyFile, created.secretKey());
        LOG.infof("development API key %s for tenant %s written to %s", created.key().id(), tenant, keyFile);
    }

    /**
     * Inserts the given key unless it exists (renewing its expiry if it does); refuses to start if
     * its prefix belongs to another secret. Replicas started together with the same key may race
     * to insert it: the loser finds the winner's row.
     */
    private void ensure(ApiKeyFormat.Parsed parsed, String tenant) {
        var stored = store.findByPrefix(parsed.prefix());
        if (stored.isEmpty()) {
            try {
                service.createUnchecked(tenant, DEV_KEY_NAME, new HashSet<>(Roles.ALL), config.keyLifetime(), parsed);
                return;
            } catch (ApiKeyStore.ApiKeyStoreException e) {
                stored = store.findByPrefix(parsed.prefix());
                if (stored.isEmpty()) {
                    throw e;
                }
            }
        }
        if (!ApiKeyFormat.hashMatches(parsed.secret(), stored.get().secretHash())
                || !stored.get().key().tenant().equals(tenant)) {
            throw new IllegalStateException("an API key with the prefix of CLEARGATE_DEV_KEY exists with another"
                    + " secret or tenant; choose another CLEARGATE_DEV_KEY");
        }
        // Started again in development: renewed, and reinstated if only a non-development start revoked it.
        if (!store.renew(stored.get().key().id(), Instant.now().plus(config.keyLifetime()), AUTO_REVOKER)) {
            throw new IllegalStateException("CLEARGATE_DEV_KEY was revoked; choose another one");
        }
    }

    private boolean stillValid(ApiKeyFormat.Parsed parsed, String tenant) {
        try {
            return service.verify(parsed.full()).tenant().equals(tenant);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Optional<ApiKeyFormat.Parsed> readKeyFile(Path keyFile) throws IOException {
        if (!Files.isRegularFile(keyFile)) {
            return Optional.empty();
        }
        return ApiKeyFormat.parse(Files.readString(keyFile, StandardCharsets.US_ASCII).strip());
    }

    private static void writeKeyFile(Path keyFile, String key) throws IOException {
        Path parent = keyFile.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve(keyFile.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // Created with owner-only permissions from the start, so the key is never readable by others.
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
            throw new IOException("cannot create " + tmp + " with mode 600", e);
        }
        Files.writeString(tmp, key + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(tmp, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
