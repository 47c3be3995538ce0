package io.cleargate.tenant;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/** Creates the tenants declared in configuration that the tenant table does not hold yet. */
@ApplicationScoped
public class TenantBootstrap {

    private static final Logger LOG = Logger.getLogger(TenantBootstrap.class);

    @Inject
    TenantConfig config;

    @Inject
    TenantRegistry registry;

    void onStart(@Observes StartupEvent event) {
        config.declared().forEach((id, declared) -> {
            Tenant tenant = new Tenant(id, declared.displayName().orElse(id), declared.jurisdiction(),
                    declared.active());
            if (registry.createIfAbsent(tenant)) {
                LOG.infof("tenant %s (%s) created from configuration", id, declared.jurisdiction());
            }
        });
    }
}
