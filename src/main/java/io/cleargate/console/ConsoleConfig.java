package io.cleargate.console;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** The web console under {@code cleargate.console}; sessions are {@code cleargate.identity.sessions.*}. */
@ConfigMapping(prefix = "cleargate.console")
public interface ConsoleConfig {

    /** Keycloak single sign-on (authorization code with PKCE). Without it the console signs in with API keys. */
    Sso sso();

    interface Sso {
        /** Offer "Sign in with single sign-on"; the gateway must also verify the realm's tokens (quarkus.oidc.*). */
        @WithDefault("false")
        boolean enabled();

        /** The realm's URL as the gateway reaches it (token endpoint); defaults to quarkus.oidc.auth-server-url. */
        Optional<String> realmUrl();

        /**
         * The realm's URL as browsers reach it (authorization and logout endpoints), when it differs from
         * {@link #realmUrl()} (for example behind an ingress).
         */
        Optional<String> browserRealmUrl();

        /** The realm's public console client (standard flow, PKCE S256, exact redirect URIs). */
        @WithDefault("cleargate-console")
        String clientId();
    }
}
