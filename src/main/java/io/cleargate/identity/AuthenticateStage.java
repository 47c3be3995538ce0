package io.cleargate.identity;

import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * First stage: verifies the Authorization header (Keycloak access token or API key) and puts the
 * {@link Principal} on the exchange. A refusal short-circuits with a 401/403 in OpenAI's shape,
 * so nothing later (and no engine) runs, while audit still sees the denial in its onComplete.
 */
@ApplicationScoped
public class AuthenticateStage implements Stage {

    private final Authenticator authenticator;

    @Inject
    public AuthenticateStage(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public StageName name() {
        return StageName.AUTHENTICATE;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        try {
            String header = exchange.incoming().header("authorization").orElse(null);
            exchange.put(Principal.KEY, authenticator.verifyCredential(header));
            return StageResult.forward();
        } catch (GatewayException e) {
            return StageResult.shortCircuit(e.error());
        }
    }
}
