/**
 * Tenants: the table of tenants the gateway serves ({@link io.cleargate.tenant.TenantRegistry}),
 * seeded from {@code cleargate.tenants.<id>.*} at startup, and the resolve-tenant stage
 * that refuses requests whose verified principal names an unknown or inactive tenant.
 *
 * <p>The tenant of a request comes only from the verified credential (token claim or API key
 * record). Nothing in the path, headers or body can choose it.
 */
package io.cleargate.tenant;
