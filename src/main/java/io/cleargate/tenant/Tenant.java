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

    /**
     * The platform's own tenant, for requests the gateway makes itself (the model probe suite). Its
     * id cannot match {@link #ID}, so no credential, API key or tenant-table row can ever name it:
     * only {@link #platform()} makes it. Its policy is {@code cleargate/tenants/_platform/}, its
     * audit chain {@code _platform}.
     */
    public static final String PLATFORM_ID = "_platform";

    public Tenant {
        Objects.requireNonNull(id, "id");
        if (!ID.matcher(id).matches() && !PLATFORM_ID.equals(id)) {
            throw new IllegalArgumentException("tenant id must match " + ID.pattern());
        }
        Objects.requireNonNull(displayName, "displayName");
        Objects.requireNonNull(jurisdiction, "jurisdiction");
    }

    /**
     * The platform tenant. It serves no customer and holds no customer's data (its probe prompts
     * are published policy data), so it has no jurisdiction of its own: routing keeps it to the
     * regions its policy lists, in any jurisdiction.
     */
    public static Tenant platform() {
        return new Tenant(PLATFORM_ID, "Platform (model probes)", "ANY", true);
    }

    /** True for the platform's own tenant. */
    public boolean isPlatform() {
        return PLATFORM_ID.equals(id);
    }

    /** A tenant id a credential or the tenant table may carry (never the platform's). */
    public static boolean isValidId(String candidate) {
        return candidate != null && ID.matcher(candidate).matches();
    }
}
