package io.cleargate.identity;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.tenant.Tenant;
import io.quarkus.oidc.AccessTokenCredential;
import io.quarkus.oidc.TenantIdentityProvider;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonString;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;
import org.jose4j.jwt.consumer.InvalidJwtException;

/**
 * Verifies Keycloak access tokens with quarkus-oidc's default tenant (issuer, audience, pinned
 * RS256, signature against the realm's JWKS, expiry and not-before; see the {@code quarkus.oidc.*}
 * settings) and turns them into a {@link Principal}. Verification is called directly rather than
 * through Quarkus' HTTP security, so that a refusal is an error the pipeline returns (in OpenAI's
 * shape, seen by audit) rather than a bare 401 written before any stage runs.
 */
@ApplicationScoped
public class JwtVerifier {

    private static final Logger LOG = Logger.getLogger(JwtVerifier.class);

    private final TenantIdentityProvider oidc;
    private final IdentityConfig config;

    @Inject
    public JwtVerifier(TenantIdentityProvider oidc, IdentityConfig config) {
        this.oidc = oidc;
        this.config = config;
    }

    /** The principal of a valid access token; throws 401 (bad token), 403 (no tenant) or 503 (Keycloak unreachable). */
    public Principal verify(String token) {
        if (!config.tokenAuthentication()) {
            throw invalidToken("token_authentication_not_configured",
                    "Token authentication is not configured on this gateway; use an API key.");
        }
        // Refused here, without the identity provider: a token that cannot be an RS256 JWT is a
        // bad credential (401) even while Keycloak is unreachable, never an outage (503).
        String shape = TokenShape.problem(token);
        if (shape != null) {
            LOG.debugf("bearer token refused before verification: %s", shape);
            throw invalidToken("invalid_token",
                    "The bearer token is not valid for this gateway (signature, issuer, audience, type or validity period).");
        }
        SecurityIdentity identity;
        try {
            identity = oidc.authenticate(new AccessTokenCredential(token)).await().atMost(config.verifyTimeout());
        } catch (AuthenticationFailedException e) {
            throw refused(e);
        } catch (RuntimeException e) {
            if (causedBy(e, AuthenticationFailedException.class) || causedBy(e, InvalidJwtException.class)) {
                throw refused(e);
            }
            LOG.errorf("token verification could not complete: %s", e.toString());
            throw new GatewayException(GatewayError.unavailable("identity_provider_unavailable",
                    "Tokens cannot be verified right now; the request was refused."));
        }
        if (!(identity.getPrincipal() instanceof JsonWebToken jwt)) {
            throw refused(null);
        }
        String subject = jwt.getSubject();
        if (subject == null || subject.isBlank()) {
            throw invalidToken("invalid_token", "The bearer token has no subject.");
        }
        String tenant = stringClaim(jwt, config.tenantClaim());
        if (!Tenant.isValidId(tenant)) {
            throw new GatewayException(GatewayError.forbidden("no_tenant",
                    "The bearer token carries no valid '" + config.tenantClaim() + "' claim."));
        }
        Set<String> roles = identity.getRoles().stream().filter(Roles.ALL::contains).collect(Collectors.toSet());
        return new Principal(tenant, subject, roles, Principal.AuthMethod.JWT, stringClaim(jwt, "preferred_username"),
                stringClaim(jwt, "email"));
    }

    private static String stringClaim(JsonWebToken jwt, String name) {
        Object value = jwt.getClaim(name);
        if (value instanceof JsonString json) {
            return json.getString();
        }
        return value instanceof String s ? s : null;
    }

    private static GatewayException refused(Throwable e) {
        // The reason goes to the debug log only, and never the token itself.
        LOG.debugf("bearer token refused: %s", e == null ? "not a JWT identity" : rootMessage(e));
        if (e != null && expired(e)) {
            return invalidToken("token_expired", "The bearer token has expired.");
        }
        return invalidToken("invalid_token",
                "The bearer token is not valid for this gateway (signature, issuer, audience, type or validity period).");
    }

    private static boolean expired(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidJwtException invalid && invalid.hasExpired()) {
                return true;
            }
        }
        return false;
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName();
    }

    static GatewayException invalidToken(String code, String message) {
        return new GatewayException(new GatewayError(401, "authentication_error", code, null, message, null,
                Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\"")));
    }
}
