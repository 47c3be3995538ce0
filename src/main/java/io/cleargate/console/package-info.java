/**
 * The compliance console at {@code /console}: server-rendered pages (Qute) for compliance officers,
 * auditors, policy admins and tenant users, served by the gateway itself with everything it needs
 * in the build (one stylesheet, one small script, no other origin).
 *
 * <h2>Rules every page follows</h2>
 * <ul>
 *   <li>Authorization is the admin shell's and nothing else: each resource declares
 *       {@code @Authorize(anyOf = ..., browser = true)}; {@link io.cleargate.identity.AdminShell}
 *       admits the signed-in console session ({@link io.cleargate.identity.ConsoleSessions}), checks
 *       the roles, and demands the session's CSRF token (and a same-origin {@code Origin}) on every
 *       change. Only the sign-in steps are {@code anonymous}.</li>
 *   <li>Pages read and change through the features' own resources ({@code ComplianceResource},
 *       {@code PolicyAdminResource}, {@code ModerationResource}) in the same request, so tenant
 *       scope, validation and the audit of content views, exports and policy changes are theirs.</li>
 *   <li>Read-only pages are plain HTML with GET forms and shareable URLs; they work without
 *       JavaScript. The script only enhances (the playground's stream needs it).</li>
 *   <li>Every response carries a Content-Security-Policy without {@code unsafe-inline}
 *       ({@link io.cleargate.console.ConsoleHeaders}); templates never put markup in data and carry
 *       no inline script or style, SVG charts included.</li>
 *   <li>A refusal (the shell's or a feature's) becomes a page: 401 sends the browser to sign-in,
 *       anything else shows the gateway's own error message and code.</li>
 * </ul>
 *
 * <h2>Sign-in</h2>
 * API keys always (so {@code bin/cleargate up} serves a usable console); Keycloak single sign-on with
 * the authorization code flow and PKCE when {@code cleargate.console.sso.enabled} ({@link io.cleargate.console.Sso}).
 * Either way the credential is verified once by {@link io.cleargate.identity.Authenticator}, the browser
 * gets an HttpOnly, SameSite=Strict (Secure under TLS) cookie holding a random session id, and the
 * sign-in is an admin event in the tenant's trail.
 */
package io.cleargate.console;
