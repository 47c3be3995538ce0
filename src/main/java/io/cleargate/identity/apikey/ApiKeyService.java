package io.cleargate.identity.apikey;

import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.IdentityConfig;
import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Creates, verifies, lists and revokes API keys. The rules:
 * <ul>
 *   <li>only a gateway-admin creates or revokes keys, and only for their own tenant;</li>
 *   <li>a key grants a subset of its creator's roles (so a tenant's admin cannot mint, say, the
 *       cross-tenant auditor role without holding it);</li>
 *   <li>every key expires, at most {@code cleargate.identity.api-keys.max-lifetime} after creation;</li>
 *   <li>the secret is returned once, at creation, and stored only as a hash.</li>
 * </ul>
 */
@ApplicationScoped
public class ApiKeyService {

    private static final Logger LOG = Logger.getLogger(ApiKeyService.class);
    private static final int MAX_NAME_LENGTH = 200;
    /** Compared against when the prefix is unknown, so unknown and wrong keys take the same time. */
    private static final String DUMMY_HASH = ApiKeyFormat.hash("0".repeat(64));

    /** What creation returns: the record and, this once, the full key. */
    public record Created(ApiKey key, String secretKey) {
        @Override
        public String toString() {
            return "Created[" + key + ", secretKey=***]";
        }
    }

    private final ApiKeyStore store;
    private final IdentityConfig config;
    private final Clock clock;

    /** Key creation and revocation are admin events in the audit trail; no event, no change. */
    @Inject
    AdminEvents adminEvents;

    @Inject
    public ApiKeyService(ApiKeyStore store, IdentityConfig config) {
        this(store, config, Clock.systemUTC());
    }

    ApiKeyService(ApiKeyStore store, IdentityConfig config, Clock clock) {
        this.store = store;
        this.config = config;
        this.clock = clock;
    }

    /** Creates a key for the creator's tenant. {@code lifetime} null means the configured default. */
    public Created create(Principal creator, String name, Set<String> roles, Duration lifetime) {
        requireAdmin(creator);
        if (name == null || name.isBlank() || name.length() > MAX_NAME_LENGTH) {
            throw new GatewayException(GatewayError.invalidRequest("name",
                    "name is required (1 to " + MAX_NAME_LENGTH + " characters)."));
        }
        if (roles == null || roles.isEmpty()) {
            throw new GatewayException(GatewayError.invalidRequest("roles", "roles must name at least one role."));
        }
        for (String role : roles) {
            if (!Roles.ALL.contains(role)) {
                throw new GatewayException(GatewayError.invalidRequest("roles", "Unknown role '" + role
                        + "'; roles are " + Roles.ALL + "."));
            }
            if (!creator.hasRole(role)) {
                throw new GatewayException(GatewayError.forbidden("role_not_held",
                        "A key may only grant roles its creator holds; you do not hold '" + role + "'."));
            }
        }
        Duration life = lifetime == null ? config.apiKeys().defaultLifetime() : lifetime;
        if (life.isNegative() || life.isZero() || life.compareTo(config.apiKeys().maxLifetime()) > 0) {
            throw new GatewayException(GatewayError.invalidRequest("expires_in_days",
                    "The key's lifetime must be positive and at most " + config.apiKeys().maxLifetime().toDays()
                            + " days."));
        }
        Instant now = clock.instant();
        return insertNew(creator.tenant(), name.strip(), roles, creator.subject(), now, now.plus(life));
    }

    /**
     * Stores a key for {@code tenant} without the admin checks: for the development key only, which
     * the gateway creates for itself at startup in development mode.
     */
    Created createUnchecked(String tenant, String name, Set<String> roles, Duration lifetime, ApiKeyFormat.Parsed given) {
        Instant now = clock.instant();
        ApiKeyFormat.Parsed parsed = given != null ? given : ApiKeyFormat.generate();
        ApiKey key = new ApiKey(UUID.randomUUID().toString(), parsed.prefix(), tenant, name, roles, DevKeyBootstrap.CREATED_BY,
                now, now.plus(lifetime), null, null);
        store.insert(key, ApiKeyFormat.hash(parsed.secret()));
        return new Created(key, parsed.full());
    }

    private Created insertNew(String tenant, String name, Set<String> roles, String createdBy, Instant now,
            Instant expiresAt) {
        // A prefix collision (one in four billion) fails the unique constraint: try again with a fresh key.
        for (int attempt = 0; attempt < 5; attempt++) {
            ApiKeyFormat.Parsed parsed = ApiKeyFormat.generate();
            ApiKey key = new ApiKey(UUID.randomUUID().toString(), parsed.prefix(), tenant, name, roles, createdBy,
                    now, expiresAt, null, null);
            try {
                if (store.findByPrefix(parsed.prefix()).isPresent()) {
                    continue;
                }
                audit(tenant, createdBy, "api_key.create", Map.of("key_id", key.id(), "name", name,
                        "roles", roles.stream().sorted().toList(), "expires_at", expiresAt.toString()));
                store.insert(key, ApiKeyFormat.hash(parsed.secret()));
                LOG.infof("API key %s created for tenant %s by %s, roles %s, expires %s", key.id(), tenant,
                        createdBy, roles, expiresAt);
                return new Created(key, parsed.full());
            } catch (ApiKeyStore.ApiKeyStoreException e) {
                if (attempt >= 2) {
                    throw unavailable(e);
                }
            }
        }
        throw unavailable(new IllegalStateException("no free API key prefix after 5 attempts"));
    }

    /**
     * The principal of a presented key, or a 401 in OpenAI's shape when it is malformed, unknown,
     * wrong, revoked or expired.
     */
    public Principal verify(String presented) {
        ApiKeyFormat.Parsed parsed = ApiKeyFormat.parse(presented).orElseThrow(() -> invalid("invalid_api_key",
                "The API key is malformed."));
        ApiKeyStore.Stored stored;
        try {
            stored = store.findByPrefix(parsed.prefix()).orElse(null);
        } catch (ApiKeyStore.ApiKeyStoreException e) {
            throw unavailable(e);
        }
        boolean matches = ApiKeyFormat.hashMatches(parsed.secret(), stored == null ? DUMMY_HASH : stored.secretHash());
        if (stored == null || !matches) {
            throw invalid("invalid_api_key", "Incorrect API key provided.");
        }
        ApiKey key = stored.key();
        if (key.revoked()) {
            throw invalid("api_key_revoked", "This API key has been revoked.");
        }
        if (key.expiredAt(clock.instant())) {
            throw invalid("api_key_expired", "This API key has expired.");
        }
        return new Principal(key.tenant(), "api-key:" + key.id(), key.roles(), Principal.AuthMethod.API_KEY,
                key.name(), null);
    }

    public List<ApiKey> list(Principal caller) {
        requireAdmin(caller);
        try {
            return store.listByTenant(caller.tenant());
        } catch (ApiKeyStore.ApiKeyStoreException e) {
            throw unavailable(e);
        }
    }

    /**
     * Whether the key with this id still admits requests (exists, not revoked, not expired). A console
     * session opened with a key asks this on every request, so revoking the key ends the session.
     */
    public boolean stillValid(String id) {
        try {
            return store.findById(id).filter(k -> !k.revoked() && !k.expiredAt(clock.instant())).isPresent();
        } catch (ApiKeyStore.ApiKeyStoreException e) {
            throw unavailable(e);
        }
    }

    /** The key, if it belongs to the caller's tenant; 403 for another tenant's key, 404 when absent. */
    public ApiKey get(Principal caller, String id) {
        requireAdmin(caller);
        ApiKey key;
        try {
            key = store.findById(id).orElse(null);
        } catch (ApiKeyStore.ApiKeyStoreException e) {
            throw unavailable(e);
        }
        if (key == null) {
            throw new GatewayException(GatewayError.notFound("No API key with id '" + safeId(id) + "'."));
        }
        if (!key.tenant().equals(caller.tenant())) {
            LOG.warnf("%s of tenant %s tried to reach API key %s of tenant %s", caller.subject(), caller.tenant(),
                    key.id(), key.tenant());
            throw new GatewayException(GatewayError.forbidden("tenant_mismatch",
                    "This API key belongs to another tenant."));
        }
        return key;
    }

    /** Revokes a key of the caller's tenant; idempotent. Returns the key as stored afterwards. */
    public ApiKey revoke(Principal caller, String id) {
        ApiKey key = get(caller, id);
        if (!key.revoked()) {
            audit(key.tenant(), caller.subject(), "api_key.revoke", Map.of("key_id", key.id()));
            try {
                store.revoke(key.id(), caller.tenant(), caller.subject(), clock.instant());
            } catch (ApiKeyStore.ApiKeyStoreException e) {
                throw unavailable(e);
            }
            LOG.infof("API key %s of tenant %s revoked by %s", key.id(), key.tenant(), caller.subject());
        }
        return store.findById(id).orElseThrow();
    }

    /** Records the change first: if the audit trail cannot take it, the change is refused (503). */
    private void audit(String tenant, String actor, String action, Map<String, Object> details) {
        if (adminEvents == null) {
            return; // constructed by hand in a unit test, outside CDI
        }
        try {
            adminEvents.record(tenant, actor, action, details);
        } catch (RuntimeException e) {
            throw new GatewayException(GatewayError.unavailable("audit_unavailable",
                    "The audit trail cannot record this change right now; nothing was changed."));
        }
    }

    private static void requireAdmin(Principal caller) {
        if (!caller.hasRole(Roles.GATEWAY_ADMIN)) {
            throw new GatewayException(GatewayError.forbidden("missing_role",
                    "This operation requires the " + Roles.GATEWAY_ADMIN + " role."));
        }
    }

    private static String safeId(String id) {
        return id != null && id.matches("[0-9a-fA-F-]{1,36}") ? id : "?";
    }

    private static GatewayException invalid(String code, String message) {
        return new GatewayException(new GatewayError(401, "authentication_error", code, null, message, null,
                java.util.Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\"")));
    }

    private static GatewayException unavailable(RuntimeException cause) {
        // The class only: a driver's message may quote the statement's values (a key prefix or hash).
        LOG.errorf("API key store unavailable: %s", cause.getClass().getName());
        return new GatewayException(GatewayError.unavailable("api_key_store_unavailable",
                "API keys cannot be checked right now; the request was refused."));
    }
}
