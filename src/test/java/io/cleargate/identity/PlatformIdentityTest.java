package io.cleargate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.EngineRequest;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.StageResult;
import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantGuard;
import io.cleargate.tenant.TenantRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The platform identity the probe suite runs as: the gateway can take it, no client can. */
class PlatformIdentityTest {

    private static Exchange exchange() {
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), "m", false, Map.of());
        return new Exchange("req", incoming, new EngineRequest("m", List.of(), 8, null, null, null, null));
    }

    /** The tenant table is never reached for an id no row can have; nothing else is needed. */
    private static final ResolveTenantStage RESOLVE = new ResolveTenantStage(new TenantGuard(new TenantRegistry(null)));

    @Test
    void anExchangeTheGatewayMarkedRunsAsThePlatformTenantWithoutAnyCredential() {
        Exchange exchange = exchange();
        PlatformIdentity.actAsPlatform(exchange);
        assertInstanceOf(StageResult.Forward.class, new AuthenticateStage(null).onRequest(exchange));
        Principal principal = exchange.require(Principal.KEY);
        assertEquals(Tenant.PLATFORM_ID, principal.tenant());
        assertEquals(Set.of(Roles.GATEWAY_USER), principal.roles(), "it may call models, nothing else");
        assertInstanceOf(StageResult.Forward.class, RESOLVE.onRequest(exchange));
        assertTrue(exchange.require(Tenant.KEY).isPlatform());
    }

    @Test
    void aCredentialNamingThePlatformTenantIsAnUnknownTenant() {
        Exchange exchange = exchange();
        exchange.put(Principal.KEY, new Principal(Tenant.PLATFORM_ID, "api-key:x", Set.of(Roles.GATEWAY_USER),
                Principal.AuthMethod.API_KEY));
        var result = RESOLVE.onRequest(exchange);
        assertInstanceOf(StageResult.ShortCircuit.class, result);
        assertEquals("unknown_tenant", ((StageResult.ShortCircuit) result).error().code());
        assertFalse(Tenant.isValidId(Tenant.PLATFORM_ID), "no token claim, API key or table row can carry it");
    }
}
