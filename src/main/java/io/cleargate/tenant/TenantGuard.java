package io.cleargate.tenant;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/** Turns a principal's tenant id into an active {@link Tenant}, or refuses (fail closed). */
@ApplicationScoped
public class TenantGuard {

    private static final Logger LOG = Logger.getLogger(TenantGuard.class);

    private final TenantRegistry registry;

    @Inject
    public TenantGuard(TenantRegistry registry) {
        this.registry = registry;
    }

    /**
     * The tenant a verified credential names, when it is known and active; throws 403 (or 503 when
     * the table is down).
     */
    public Tenant requireActive(String tenantId) {
        Tenant tenant;
        try {
            tenant = registry.find(tenantId).orElse(null);
        } catch (TenantRegistry.TenantLookupException e) {
            LOG.errorf("cannot read the tenant table: %s", e.getMessage());
            throw new GatewayException(GatewayError.unavailable("tenant_registry_unavailable",
                    "The tenant registry is unavailable; the request was refused."));
        }
        if (tenant == null) {
            throw new GatewayException(GatewayError.forbidden("unknown_tenant",
                    "The credential's tenant is not served by this gateway."));
        }
        if (!tenant.active()) {
            throw new GatewayException(GatewayError.forbidden("tenant_inactive",
                    "The credential's tenant is not active."));
        }
        return tenant;
    }
}
