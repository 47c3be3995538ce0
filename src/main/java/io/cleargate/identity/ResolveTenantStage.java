package io.cleargate.identity;

import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantGuard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Accepts the request only for a known, active tenant: the one named by the verified principal
 * (a token claim or the API key's record), never by anything else the client sent. Records the
 * {@link Tenant} on the exchange for policy, routing and audit.
 */
@ApplicationScoped
public class ResolveTenantStage implements Stage {

    private final TenantGuard guard;

    @Inject
    public ResolveTenantStage(TenantGuard guard) {
        this.guard = guard;
    }

    @Override
    public StageName name() {
        return StageName.RESOLVE_TENANT;
    }

    /** No response phase: chunks pass untouched, so serving them never waits on this stage. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return false;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        try {
            Principal principal = exchange.get(Principal.KEY).orElseThrow(() -> new GatewayException(
                    GatewayError.unauthenticated("The request was not authenticated.")));
            exchange.put(Tenant.KEY, PlatformIdentity.isPlatform(principal) ? Tenant.platform()
                    : guard.requireActive(principal.tenant()));
            return StageResult.forward();
        } catch (GatewayException e) {
            return StageResult.shortCircuit(e.error());
        }
    }
}
