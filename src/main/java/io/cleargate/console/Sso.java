package io.cleargate.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Keycloak single sign-on for the console: the authorization code flow with PKCE (S256) against the
 * realm's public console client. The gateway keeps each pending sign-in (state, PKCE verifier) for a
 * few minutes, exchanges the code for an access token server to server, and hands the token to the
 * gateway's own {@link io.cleargate.identity.Authenticator} (issuer, audience, signature, tenant):
 * the token is then dropped, never stored or logged.
 */
@ApplicationScoped
public class Sso {

    private static final Logger LOG = Logger.getLogger(Sso.class);
    private static final Duration PENDING_FOR = Duration.ofMinutes(10);
    private static final int MAX_PENDING = 10_000;

    /** A sign-in started in this browser: where to return, and the PKCE verifier. */
    record Pending(String verifier, String redirectUri, String next, Instant startedAt) {}

    private final ConsoleConfig.Sso config;
    private final String realmUrl;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    @Inject
    public Sso(ConsoleConfig config, @ConfigProperty(name = "quarkus.oidc.auth-server-url") Optional<String> oidcUrl) {
        this.config = config.sso();
        this.realmUrl = this.config.realmUrl().or(() -> oidcUrl).map(Sso::trimSlash).orElse(null);
    }

    public boolean enabled() {
        return config.enabled() && realmUrl != null;
    }

    private String browserRealm() {
        return config.browserRealmUrl().map(Sso::trimSlash).orElse(realmUrl);
    }

    /** The Keycloak authorization URL for a new sign-in; {@code state} is also set as a cookie by the caller. */
    String start(String state, String redirectUri, String next) {
        if (pending.size() >= MAX_PENDING) {
            Instant cutoff = Instant.now().minus(PENDING_FOR);
            pending.values().removeIf(p -> p.startedAt().isBefore(cutoff));
            if (pending.size() >= MAX_PENDING) {
                throw new GatewayException(GatewayError.unavailable("sign_in_busy", "Too many sign-ins in progress."));
            }
        }
        String verifier = io.cleargate.identity.ConsoleSessions.token() + io.cleargate.identity.ConsoleSessions.token();
        pending.put(state, new Pending(verifier, redirectUri, next, Instant.now()));
        Map<String, String> q = new LinkedHashMap<>();
        q.put("client_id", config.clientId());
        q.put("response_type", "code");
        q.put("scope", "openid");
        q.put("redirect_uri", redirectUri);
        q.put("state", state);
        q.put("code_challenge", challenge(verifier));
        q.put("code_challenge_method", "S256");
        return browserRealm() + "/protocol/openid-connect/auth?" + form(q);
    }

    /**
     * Completes a sign-in: the state must be one this gateway started (and the browser's cookie),
     * then the code is exchanged with the PKCE verifier. Returns the access token and where to go next.
     */
    Completed complete(String state, String code) {
        Pending p = state == null ? null : pending.remove(state);
        if (p == null || p.startedAt().plus(PENDING_FOR).isBefore(Instant.now()) || code == null || code.isBlank()) {
            throw new GatewayException(new GatewayError(401, "authentication_error", "sign_in_expired", null,
                    "This sign-in is unknown or expired; start again.", null, null));
        }
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "authorization_code");
        form.put("client_id", config.clientId());
        form.put("code", code);
        form.put("redirect_uri", p.redirectUri());
        form.put("code_verifier", p.verifier());
        HttpRequest request = HttpRequest.newBuilder(URI.create(realmUrl + "/protocol/openid-connect/token"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(form))).build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                // The body may echo the code: log the status only.
                LOG.warnf("single sign-on: the realm refused the code exchange with status %d", response.statusCode());
                throw new GatewayException(new GatewayError(401, "authentication_error", "sign_in_refused", null,
                        "The identity provider refused the sign-in; start again.", null, null));
            }
            JsonNode token = json.readTree(response.body()).get("access_token");
            if (token == null || !token.isTextual()) {
                throw new GatewayException(new GatewayError(401, "authentication_error", "sign_in_refused", null,
                        "The identity provider returned no access token.", null, null));
            }
            return new Completed(token.asText(), p.next());
        } catch (IOException e) {
            LOG.warnf("single sign-on: the realm is unreachable (%s)", e.getClass().getSimpleName());
            throw new GatewayException(GatewayError.unavailable("identity_provider_unavailable",
                    "The identity provider cannot be reached; try again later."));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GatewayException(GatewayError.unavailable("identity_provider_unavailable", "Interrupted."));
        }
    }

    record Completed(String accessToken, String next) {
        @Override
        public String toString() {
            return "Completed[next=" + next + "]"; // never the token
        }
    }

    /** Where the browser ends the realm's session after the console's own sign-out. */
    String logoutUrl(String returnTo) {
        return browserRealm() + "/protocol/openid-connect/logout?" + form(Map.of("client_id", config.clientId(),
                "post_logout_redirect_uri", returnTo));
    }

    static String challenge(String verifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String form(Map<String, String> values) {
        return values.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    private static String trimSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
