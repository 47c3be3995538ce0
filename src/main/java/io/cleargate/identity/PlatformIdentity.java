package io.cleargate.identity;

import io.cleargate.pipeline.Exchange;
import io.cleargate.tenant.Tenant;
import java.util.Set;

/**
 * The platform acting on its own behalf: requests the gateway builds itself, such as the model
 * probe suite, run as the {@value Tenant#PLATFORM_ID} tenant through the whole governed pipeline
 * (its own policy in {@code cleargate/tenants/_platform/}, its filter, residency routing, its own
 * audit chain). No credential can be this identity: the authenticate stage admits it only from
 * {@link #KEY}, which only server-side code can put on an exchange it created, and the tenant id
 * is one no credential or tenant-table row can carry.
 */
public final class PlatformIdentity {

    /** The subject of every platform request; the person who started a run is recorded with the run. */
    public static final String SUBJECT = "platform-probes";

    static final Exchange.Key<Principal> KEY = Exchange.Key.of("platform-identity", Principal.class);

    private PlatformIdentity() {}

    /** Marks an exchange the gateway built itself to run as the platform. */
    public static void actAsPlatform(Exchange exchange) {
        exchange.put(KEY, new Principal(Tenant.PLATFORM_ID, SUBJECT, Set.of(Roles.GATEWAY_USER),
                Principal.AuthMethod.PLATFORM, "platform probes", null));
    }

    /** True for the principal {@link #actAsPlatform} makes. */
    static boolean isPlatform(Principal principal) {
        return principal.authMethod() == Principal.AuthMethod.PLATFORM && Tenant.PLATFORM_ID.equals(principal.tenant());
    }
}
