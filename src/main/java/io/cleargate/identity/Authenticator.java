package io.cleargate.identity;

import io.cleargate.identity.apikey.ApiKeyFormat;
import io.cleargate.identity.apikey.ApiKeyService;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.tenant.TenantGuard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Establishes who is calling from an {@code Authorization} header: a Keycloak access token or a
 * Cleargate API key, both sent as {@code Authorization: Bearer <credential>}. This is the one
 * entry point for every endpoint, the pipeline's stages and JAX-RS resources alike.
 *
 * <p>All methods block (token verification may fetch Keycloak's keys): call them from a worker
 * or virtual thread, never the event loop. They throw {@link GatewayException} carrying a
 * 401/403/503 in OpenAI's shape; JAX-RS resources let it propagate ({@link GatewayExceptionMapper}
 * writes it).
 */
@ApplicationScoped
public class Authenticator {

    /** RFC 6750 b64token after a case-insensitive "Bearer" and one space. */
    private static final Pattern BEARER = Pattern.compile("(?i:bearer) ([A-Za-z0-9._~+/-]+=*)");

    private final JwtVerifier jwt;
    private final ApiKeyService apiKeys;
    private final TenantGuard tenants;
    private final IdentityConfig config;

    @Inject
    public Authenticator(JwtVerifier jwt, ApiKeyService apiKeys, TenantGuard tenants, IdentityConfig config) {
        this.jwt = jwt;
        this.apiKeys = apiKeys;
        this.tenants = tenants;
        this.config = config;
    }

    /**
     * Verifies the credential and checks that its tenant is known and active. The usual call for
     * JAX-RS endpoints.
     */
    public Principal authenticate(String authorizationHeader) {
        Principal principal = verifyCredential(authorizationHeader);
        tenants.requireActive(principal.tenant());
        return principal;
    }

    /**
     * Verifies the credential only (signature, issuer, audience, expiry; or the API key's hash,
     * revocation and expiry), without looking the tenant up. The authenticate stage uses this and
     * leaves the tenant to the resolve-tenant stage.
     */
    public Principal verifyCredential(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            throw new GatewayException(unauthenticated("missing_credentials",
                    "Missing credentials. Send 'Authorization: Bearer <access token or API key>'."));
        }
        if (authorizationHeader.length() > config.maxAuthorizationHeaderLength()) {
            throw new GatewayException(unauthenticated("invalid_authorization_header",
                    "The Authorization header is too long."));
        }
        var m = BEARER.matcher(authorizationHeader);
        if (!m.matches()) {
            throw new GatewayException(unauthenticated("invalid_authorization_header",
                    "The Authorization header must read 'Bearer <access token or API key>'."));
        }
        String credential = m.group(1);
        if (ApiKeyFormat.looksLikeApiKey(credential)) {
            return apiKeys.verify(credential);
        }
        if (credential.chars().filter(c -> c == '.').count() != 2) {
            throw JwtVerifier.invalidToken("invalid_token", "The bearer credential is neither a JWT nor an API key.");
        }
        return jwt.verify(credential);
    }

    private static GatewayError unauthenticated(String code, String message) {
        return new GatewayError(401, "authentication_error", code, null, message, null,
                Map.of("WWW-Authenticate", "Bearer"));
    }
}
