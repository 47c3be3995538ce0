package io.cleargate.identity;

import io.cleargate.identity.apikey.ApiKeyService;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.tenant.TenantGuard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Server-side sessions of the web console. A browser holds only the session id (an HttpOnly,
 * SameSite=Strict cookie); the principal established at sign-in, through {@link Authenticator}
 * like every other caller, stays here. The credential itself (API key or access token) is never
 * kept: a key's id is, so that revoking the key ends its sessions at the next request.
 *
 * <p>Each session carries a CSRF token that {@link AdminShell} demands on every change. Sessions
 * live in this replica's memory: several replicas need sticky sessions (or a sign-in per replica).
 */
@ApplicationScoped
public class ConsoleSessions {

    /** The session cookie's name. */
    public static final String COOKIE = "cg_console";

    /**
     * One signed-in browser.
     *
     * @param id        the cookie value: 256 random bits, base64url
     * @param csrf      the token every change must carry (form field {@code _csrf} or header {@code X-CSRF-Token})
     * @param principal who signed in
     * @param apiKeyId  the key signed in with, re-checked on every request; null for single sign-on
     * @param openedAt  sign-in time
     */
    public record Session(String id, String csrf, Principal principal, String apiKeyId, Instant openedAt) {

        @Override
        public String toString() {
            return "Session[" + principal.tenant() + "/" + principal.subject() + "]"; // never the id or token
        }
    }

    private record Entry(Session session, Instant lastSeen) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Entry> open = new ConcurrentHashMap<>();
    private final IdentityConfig.Sessions config;
    private final ApiKeyService apiKeys;
    private final TenantGuard tenants;
    private final Clock clock;

    @Inject
    public ConsoleSessions(IdentityConfig config, ApiKeyService apiKeys, TenantGuard tenants) {
        this(config.sessions(), apiKeys, tenants, Clock.systemUTC());
    }

    ConsoleSessions(IdentityConfig.Sessions config, ApiKeyService apiKeys, TenantGuard tenants, Clock clock) {
        this.config = config;
        this.apiKeys = apiKeys;
        this.tenants = tenants;
        this.clock = clock;
    }

    /** Opens a session for a principal that {@link Authenticator} has just verified. */
    public Session open(Principal principal) {
        String keyId = principal.authMethod() == Principal.AuthMethod.API_KEY
                && principal.subject().startsWith("api-key:") ? principal.subject().substring("api-key:".length()) : null;
        Session session = new Session(token(), token(), principal, keyId, clock.instant());
        evictIfFull();
        open.put(session.id(), new Entry(session, clock.instant()));
        return session;
    }

    /**
     * The live session with this id, its use recorded; empty when unknown, idle or too old. Throws
     * the refusal when the key it was opened with was revoked or its tenant was deactivated (the
     * session is closed then).
     */
    public Optional<Session> find(String id) {
        if (id == null || id.isEmpty() || id.length() > 100) {
            return Optional.empty();
        }
        Entry entry = open.get(id);
        if (entry == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (now.isAfter(entry.lastSeen().plus(config.idleTimeout()))
                || now.isAfter(entry.session().openedAt().plus(config.maxLifetime()))) {
            open.remove(id);
            return Optional.empty();
        }
        Session session = entry.session();
        try {
            if (session.apiKeyId() != null && !apiKeys.stillValid(session.apiKeyId())) {
                throw new GatewayException(new GatewayError(401, "authentication_error", "api_key_revoked", null,
                        "The API key this console session was opened with is no longer valid.", null, null));
            }
            tenants.requireActive(session.principal().tenant());
        } catch (GatewayException e) {
            if (e.error().status() != 503) {
                open.remove(id);
            }
            throw e;
        }
        open.put(id, new Entry(session, now));
        return Optional.of(session);
    }

    /** Ends a session (sign-out). */
    public void close(String id) {
        if (id != null) {
            open.remove(id);
        }
    }

    /** Whether {@code presented} is the session's CSRF token (constant time). */
    public static boolean csrfMatches(Session session, String presented) {
        return presented != null && MessageDigest.isEqual(session.csrf().getBytes(StandardCharsets.US_ASCII),
                presented.getBytes(StandardCharsets.US_ASCII));
    }

    /** A fresh 256-bit random token, base64url without padding. */
    public static String token() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private void evictIfFull() {
        if (open.size() < config.maxSessions()) {
            return;
        }
        Instant now = clock.instant();
        open.entrySet().removeIf(e -> now.isAfter(e.getValue().lastSeen().plus(config.idleTimeout())));
        while (open.size() >= config.maxSessions()) {
            open.entrySet().stream().min(Comparator.comparing(e -> e.getValue().lastSeen()))
                    .ifPresent(e -> open.remove(e.getKey()));
        }
    }
}
