package io.cleargate.identity;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * Identity settings under {@code cleargate.identity}. The OIDC checks themselves (issuer,
 * audience, algorithm, JWKS) are quarkus-oidc's {@code quarkus.oidc.*} keys; see
 * application.properties.
 */
@ConfigMapping(prefix = "cleargate.identity")
public interface IdentityConfig {

    /**
     * Whether Keycloak access tokens are accepted at all. Off (bin/cleargate up without
     * CLEARGATE_OIDC_URL): every bearer token is refused with 401 "token authentication is not
     * configured", and quarkus-oidc is disabled with it ({@code quarkus.oidc.tenant-enabled}).
     */
    @WithDefault("true")
    boolean tokenAuthentication();

    /** The verified access-token claim holding the tenant id. */
    @WithDefault("tenant")
    String tenantClaim();

    /** Longest wait for a token verification, a JWKS fetch from Keycloak included. */
    @WithDefault("5s")
    Duration verifyTimeout();

    /** Largest Authorization header accepted; longer ones are refused before parsing. */
    @WithDefault("16384")
    int maxAuthorizationHeaderLength();

    ApiKeys apiKeys();

    /** Console (browser) sign-in sessions, see {@link ConsoleSessions}. */
    Sessions sessions();

    interface Sessions {
        /** A session unused for this long is closed. */
        @WithDefault("PT30M")
        Duration idleTimeout();

        /** A session is closed this long after sign-in, used or not. */
        @WithDefault("PT8H")
        Duration maxLifetime();

        /** Open sessions kept per replica; the oldest idle one is closed beyond it. */
        @WithDefault("10000")
        int maxSessions();
    }

    interface ApiKeys {
        /** Lifetime of a key whose creator names none. */
        @WithDefault("P90D")
        Duration defaultLifetime();

        /** Longest lifetime a key may be given: every key expires. */
        @WithDefault("P365D")
        Duration maxLifetime();
    }
}
