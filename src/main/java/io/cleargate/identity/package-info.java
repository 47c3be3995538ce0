/**
 * Identity: who is calling, established only from a verified credential.
 *
 * <p>Two credentials, both sent as {@code Authorization: Bearer <credential>}:
 * <ul>
 *   <li>a Keycloak access token, verified by quarkus-oidc ({@link io.cleargate.identity.JwtVerifier}):
 *       RS256 only, issuer and audience ({@code cleargate-gateway}) checked, {@code typ} Bearer,
 *       expiry and not-before checked, keys from the realm's JWKS (refetched on an unknown kid, never
 *       introspected). Tenant = the {@code tenant} claim (a Keycloak user attribute only admins may
 *       set); roles = realm roles among {@link io.cleargate.identity.Roles#ALL}.</li>
 *   <li>a Cleargate API key {@code cg_<prefix>_<secret>} ({@link io.cleargate.identity.apikey}):
 *       created by a tenant's gateway-admin, stored as SHA-256 of the secret, revocable, always
 *       expiring. Tenant and roles come from the key's record.</li>
 * </ul>
 * Both yield the same {@link io.cleargate.identity.Principal}.
 *
 * <h2>Using it from other features</h2>
 * <ul>
 *   <li>Pipeline: {@link io.cleargate.identity.AuthenticateStage} puts the principal on the exchange
 *       ({@code exchange.get(Principal.KEY)}); {@link io.cleargate.identity.ResolveTenantStage} then
 *       puts the active {@link io.cleargate.tenant.Tenant} ({@code Tenant.KEY}).</li>
 *   <li>JAX-RS endpoints (admin, compliance, moderation, keys) go through the one admin shell: annotate
 *       the resource class or method with {@link io.cleargate.identity.Authorize}
 *       ({@code @Authorize(anyOf = Roles.POLICY_ADMIN)}; no roles = any authenticated caller) and
 *       inject {@link io.cleargate.identity.Caller}. {@link io.cleargate.identity.AdminShell}
 *       authenticates once through {@link io.cleargate.identity.Authenticator} (the tenant must be
 *       known and active), checks the roles and fills the caller before the method runs; a resource
 *       without {@code @Authorize} is closed. Tenant scope: {@code caller.tenantScope(requested)} and
 *       {@code caller.requireTenant(tenant)} keep a tenant-scoped caller to its own tenant, while
 *       roles in {@link io.cleargate.identity.Roles#PLATFORM_SCOPED} span tenants.
 *       Failures are {@link io.cleargate.pipeline.GatewayException}s, written by
 *       {@link io.cleargate.identity.GatewayExceptionMapper} as OpenAI-shaped errors: resources throw,
 *       they never build error responses themselves.</li>
 *   <li>Admin actions are recorded through {@link io.cleargate.identity.AdminEvents}, declared here
 *       beside its callers and implemented by the audit trail.</li>
 * </ul>
 *
 * <p>Quarkus' own HTTP security is not used for these paths ({@code quarkus.http.auth.proactive=false},
 * no {@code @RolesAllowed}): a refusal must be the gateway's error, visible to audit. Tokens and keys
 * are never logged, not even in part (not even the key prefix); logs name keys by their id.
 */
package io.cleargate.identity;
