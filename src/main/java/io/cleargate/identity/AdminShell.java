package io.cleargate.identity;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import jakarta.ws.rs.core.Cookie;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The one door of every admin, compliance, moderation and key endpoint (the JAX-RS resources).
 * Before a resource method runs it authenticates the caller once through {@link Authenticator}
 * (the tenant must be known and active), checks the roles its {@link Authorize} declares, and
 * admits the caller into the request's {@link Caller}. Failures are thrown as
 * {@link GatewayException}s, which {@link GatewayExceptionMapper} writes in OpenAI's error shape,
 * the same mapping every resource uses.
 *
 * <p>Runs on the worker thread that will run the resource method (verification may block).
 */
public class AdminShell {

    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

    private final Authenticator authenticator;
    private final Caller caller;
    private final ConsoleSessions sessions;

    @Inject
    public AdminShell(Authenticator authenticator, Caller caller, ConsoleSessions sessions) {
        this.authenticator = authenticator;
        this.caller = caller;
        this.sessions = sessions;
    }

    AdminShell(Authenticator authenticator, Caller caller) {
        this(authenticator, caller, null);
    }

    @ServerRequestFilter
    public void filter(ContainerRequestContext request, ResourceInfo resource) {
        Authorize rule = rule(resource);
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (rule != null && (rule.browser() || rule.anonymous()) && authorization == null) {
            Cookie cookie = request.getCookies().get(ConsoleSessions.COOKIE);
            if (cookie != null || !rule.anonymous()) {
                admitSession(cookie == null ? null : cookie.getValue(), request, resource, rule);
            }
            return;
        }
        admit(authorization, resource);
    }

    /**
     * Admits a console session: the cookie names a live session, and a change carries the session's
     * CSRF token and, when the browser states one, a same-origin {@code Origin}. On an anonymous step
     * an invalid cookie is ignored (the caller is signing in again).
     */
    void admitSession(String sessionId, ContainerRequestContext request, ResourceInfo resource, Authorize rule) {
        ConsoleSessions.Session session = sessions.find(sessionId).orElse(null);
        if (session == null) {
            if (rule.anonymous()) {
                return;
            }
            throw new GatewayException(new GatewayError(401, "authentication_error", "console_session_required",
                    null, "Sign in to the console first.", null, null));
        }
        if (!SAFE_METHODS.contains(request.getMethod())) {
            requireSameOrigin(request);
            // Scripts send the header; plain HTML forms carry the token in their action URL (POST only,
            // and the console's Referrer-Policy keeps URLs on this origin).
            String token = request.getHeaderString("X-CSRF-Token");
            if (token == null) {
                token = request.getUriInfo().getQueryParameters().getFirst("_csrf");
            }
            if (!ConsoleSessions.csrfMatches(session, token)) {
                throw new GatewayException(GatewayError.forbidden("csrf_token_invalid",
                        "This change did not carry the console's CSRF token; reload the page and try again."));
            }
        }
        Principal principal = session.principal();
        caller.admit(principal, granting(principal, rule.anyOf()), session);
    }

    /** A browser's Origin on a change must be this gateway's own (scheme, host and port). */
    private static void requireSameOrigin(ContainerRequestContext request) {
        String origin = request.getHeaderString("Origin");
        if (origin == null) {
            return; // the token decides; SameSite=Strict already keeps the cookie off cross-site requests
        }
        var uri = request.getUriInfo().getBaseUri();
        String self = uri.getScheme() + "://" + uri.getAuthority();
        if (!origin.equalsIgnoreCase(self)) {
            throw new GatewayException(GatewayError.forbidden("cross_origin_change",
                    "Changes are accepted only from the console's own pages."));
        }
    }

    private static Authorize rule(ResourceInfo resource) {
        Method method = resource.getResourceMethod();
        if (method == null) {
            return null;
        }
        Authorize rule = method.getAnnotation(Authorize.class);
        return rule != null ? rule : resource.getResourceClass().getAnnotation(Authorize.class);
    }

    /** Authenticates and authorizes the caller of {@code resource}; throws the refusal otherwise. */
    void admit(String authorization, ResourceInfo resource) {
        Method method = resource.getResourceMethod();
        if (method == null) {
            return; // no resource matched: JAX-RS answers 404/405 itself
        }
        Authorize rule = method.getAnnotation(Authorize.class);
        if (rule == null) {
            rule = resource.getResourceClass().getAnnotation(Authorize.class);
        }
        if (rule == null) {
            throw new GatewayException(GatewayError.forbidden("endpoint_not_authorized",
                    "This endpoint declares no access rule and is closed."));
        }
        if (rule.anonymous() && authorization == null) {
            return;
        }
        Principal principal = authenticator.authenticate(authorization);
        caller.admit(principal, granting(principal, rule.anyOf()));
    }

    /** The endpoint's roles the principal holds; 403 when it needs some and the principal holds none. */
    private static Set<String> granting(Principal principal, String[] anyOf) {
        Set<String> held = new LinkedHashSet<>();
        for (String role : anyOf) {
            if (principal.hasRole(role)) {
                held.add(role);
            }
        }
        if (anyOf.length > 0 && held.isEmpty()) {
            throw new GatewayException(GatewayError.forbidden("missing_role",
                    "This operation requires one of the roles " + Arrays.toString(anyOf) + "."));
        }
        return held;
    }
}
