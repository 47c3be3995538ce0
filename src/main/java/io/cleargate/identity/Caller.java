package io.cleargate.identity;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.enterprise.context.RequestScoped;
import java.util.Set;

/**
 * The authenticated caller of the current admin request, set by {@link AdminShell} before the
 * resource method runs, with the roles through which the endpoint admitted it. Resources read who
 * is calling from here and nowhere else.
 */
@RequestScoped
public class Caller {

    private Principal principal;
    private Set<String> grantedBy = Set.of();
    private ConsoleSessions.Session session;

    void admit(Principal principal, Set<String> grantedBy) {
        admit(principal, grantedBy, null);
    }

    void admit(Principal principal, Set<String> grantedBy, ConsoleSessions.Session session) {
        this.principal = principal;
        this.grantedBy = Set.copyOf(grantedBy);
        this.session = session;
    }

    /** Whether a caller was admitted (false on anonymous console steps such as sign-in). */
    public boolean present() {
        return principal != null;
    }

    /** The console session the caller came with; empty for callers with an Authorization header. */
    public java.util.Optional<ConsoleSessions.Session> session() {
        return java.util.Optional.ofNullable(session);
    }

    /** The verified principal; a resource reached without the shell is a bug, not a guest. */
    public Principal principal() {
        if (principal == null) {
            throw new IllegalStateException("no caller: the resource method lacks @Authorize");
        }
        return principal;
    }

    /** True when one of the roles that admitted the caller spans every tenant (for example auditor). */
    public boolean platformScoped() {
        return grantedBy.stream().anyMatch(Roles.PLATFORM_SCOPED::contains);
    }

    /**
     * The tenant a request acts on. A platform-scoped caller may name any tenant, and naming none
     * means every tenant (null). Everyone else acts on their own tenant; naming another one is 403.
     */
    public String tenantScope(String requested) {
        boolean named = requested != null && !requested.isBlank();
        if (platformScoped()) {
            return named ? requested : null;
        }
        if (named) {
            requireTenant(requested);
        }
        return principal().tenant();
    }

    /** Throws 403 unless the caller may act on {@code tenant}. */
    public void requireTenant(String tenant) {
        if (!mayActOn(tenant)) {
            throw new GatewayException(GatewayError.forbidden("tenant_mismatch",
                    "The resource belongs to another tenant."));
        }
    }

    /** Whether the caller may act on (or see) {@code tenant}. */
    public boolean mayActOn(String tenant) {
        return platformScoped() || principal().tenant().equals(tenant);
    }
}
