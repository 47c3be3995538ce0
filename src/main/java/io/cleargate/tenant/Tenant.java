package io.cleargate.tenant;

import io.cleargate.pipeline.Exchange;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A tenant the gateway serves, as recorded in the tenant table.
 *
 * @param id           stable id, as carried by the verified {@code tenant} token claim or an API key
 * @param displayName  for people
 * @param jurisdiction where the tenant's data must stay (for example EU or US); routing reads it
 * @param active       inactive tenants are refused
 */
public record Tenant(String id, String displayName, String jurisdiction, boolean active) {

    /** Set by the resolve-tenant stage once the principal's tenant is known and active. */
    public static final Exchange.Key<Tenant> KEY = Exchange.Key.of("tenant", Tenant.class);

    /** Lower-case letters, digits and dashes: safe in logs, paths and OPA input without escaping. */
    public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{1,62}");

    public Tenant {
        Objects.requireNonNull(id, "id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("tenant id must match " + ID.pattern());
        }
        Objects.requireNonNull(displayName, "displayName");
        Objects.requireNonNull(jurisdiction, "jurisdiction");
    }

    public static boolean isValidId(String candidate) {
        return candidate != null && ID.matcher(candidate).matches();
    }
}
