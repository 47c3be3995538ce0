package io.cleargate.tenant;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithParentName;
import java.util.Map;
import java.util.Optional;

/**
 * Tenants declared in configuration ({@code cleargate.tenants.<id>.jurisdiction} and so on). At startup each one is
 * created in the tenant table when missing; the table stays the source of truth afterwards, so
 * an operator's change to a tenant there (for example switching it off) is not overwritten.
 */
@ConfigMapping(prefix = "cleargate.tenants")
public interface TenantConfig {

    /** Declared tenants by id. */
    @WithParentName
    Map<String, Declared> declared();

    interface Declared {
        /** Jurisdiction the tenant's data belongs to, for example EU or US. */
        String jurisdiction();

        /** Name shown to people; defaults to the id. */
        Optional<String> displayName();

        @WithDefault("true")
        boolean active();
    }
}
