package io.cleargate.identity;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares who may call a JAX-RS resource method (or every method of a resource class; a method's
 * own annotation wins). {@link AdminShell} authenticates the caller once through
 * {@link Authenticator}, checks the roles and makes the caller available as {@link Caller}.
 * A resource without this annotation is refused with 403 by the shell, so forgetting it fails
 * closed.
 *
 * <p>Tenant scope: a caller acts on its own tenant unless it holds one of the endpoint's roles that
 * {@link Roles#PLATFORM_SCOPED} marks as spanning tenants; {@link Caller#tenantScope(String)} and
 * {@link Caller#requireTenant(String)} apply that rule where a resource names a tenant.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Authorize {

    /** The caller must hold at least one of these roles; empty means any authenticated caller. */
    String[] anyOf() default {};

    /**
     * A console page: besides an {@code Authorization} header it admits a signed-in console session
     * (the {@link ConsoleSessions#COOKIE} cookie), and then demands the session's CSRF token on every
     * method that changes something (header {@code X-CSRF-Token}, or query parameter {@code _csrf} in an
     * HTML form's action URL) and a
     * same-origin {@code Origin} when the browser sends one.
     */
    boolean browser() default false;

    /**
     * Admits callers without any credential: only for the console's sign-in steps, which establish
     * one. The resource then protects its own forms (a pre-session CSRF cookie).
     */
    boolean anonymous() default false;
}
