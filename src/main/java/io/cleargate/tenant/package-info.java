/**
 * Tenants: the table of tenants the gateway serves ({@link io.cleargate.tenant.TenantRegistry}),
 * which follows the tenants of the policy data (the policy feature writes it at start and after
 * every activation: one source of truth, changed through policy administration), and {@link io.cleargate.tenant.TenantGuard},
 * which refuses a tenant id that is unknown or inactive. Identity stands on this package: its
 * resolve-tenant stage and admin shell ask the guard about the tenant a verified credential names.
 *
 * <p>The tenant of a request comes only from the verified credential (token claim or API key
 * record). Nothing in the path, headers or body can choose it.
 */
package io.cleargate.tenant;
