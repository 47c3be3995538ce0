package io.cleargate.identity;

import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * First stage: verifies the Authorization header (Keycloak access token or API key) and puts the
 * {@link Principal} on the exchange. A refusal short-circuits with a 401/403 in OpenAI's shape,
 * so nothing later (and no engine) runs, while audit still sees the denial in its onComplete.
 *
 * <p>The console's playground calls the API from the browser without a credential of its own: a
 * request without an Authorization header that carries the console session cookie and that
 * session's CSRF token in {@code X-CSRF-Token} (a header no other site can make a browser send)
 * runs as the session's principal.
 *
 * <p>Requests the gateway builds itself (the model probe suite) run as the platform
 * ({@link PlatformIdentity}): no header can make a request that.
 */
@ApplicationScoped
public class AuthenticateStage implements Stage {

    private final Authenticator authenticator;
    private final ConsoleSessions sessions;

    @Inject
    public AuthenticateStage(Authenticator authenticator, ConsoleSessions sessions) {
        this.authenticator = authenticator;
        this.sessions = sessions;
    }

    public AuthenticateStage(Authenticator authenticator) {
        this(authenticator, null);
    }

    @Override
    public StageName name() {
        return StageName.AUTHENTICATE;
    }

    /** No response phase: chunks pass untouched, so serving them never waits on this stage. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return false;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        var platform = exchange.get(PlatformIdentity.KEY);
        if (platform.isPresent()) {
            exchange.put(Principal.KEY, platform.get()); // built by the gateway itself, not sent by a client
            return StageResult.forward();
        }
        try {
            String header = exchange.incoming().header("authorization").orElse(null);
            String csrf = exchange.incoming().header("x-csrf-token").orElse(null);
            if (header == null && csrf != null && sessions != null) {
                exchange.put(Principal.KEY, consoleSession(exchange, csrf));
                return StageResult.forward();
            }
            exchange.put(Principal.KEY, authenticator.verifyCredential(header));
            return StageResult.forward();
        } catch (GatewayException e) {
            return StageResult.shortCircuit(e.error());
        }
    }

    private Principal consoleSession(Exchange exchange, String csrf) {
        String id = exchange.incoming().header("cookie").map(AuthenticateStage::sessionId).orElse(null);
        ConsoleSessions.Session session = sessions.find(id).orElseThrow(() -> new GatewayException(
                io.cleargate.pipeline.GatewayError.unauthenticated("The console session has ended; sign in again.")));
        if (!ConsoleSessions.csrfMatches(session, csrf)) {
            throw new GatewayException(io.cleargate.pipeline.GatewayError.forbidden("csrf_token_invalid",
                    "The console's CSRF token does not match its session."));
        }
        return session.principal();
    }

    /** The console session id in a Cookie header, if any. */
    static String sessionId(String cookieHeader) {
        for (String part : cookieHeader.split("[;,]")) {
            String p = part.strip();
            if (p.startsWith(ConsoleSessions.COOKIE + "=")) {
                return p.substring(ConsoleSessions.COOKIE.length() + 1);
            }
        }
        return null;
    }
}
