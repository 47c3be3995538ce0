package io.cleargate.console;

import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.Authenticator;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.ConsoleSessions;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import jakarta.inject.Inject;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Signing in and out of the console. API-key sign-in always; Keycloak single sign-on when
 * configured. Either way the credential goes through the gateway's one {@link Authenticator}, the
 * browser gets only a session id, and the sign-in is an admin event in the tenant's trail.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public class SignInResource {

    /** Pre-session token against login CSRF (double submit: cookie and form field). */
    static final String SIGN_IN_COOKIE = "cg_sign_in";
    static final String SSO_STATE_COOKIE = "cg_sso_state";
    private static final int MAX_KEY_LENGTH = 512;

    @Inject Authenticator authenticator;
    @Inject ConsoleSessions sessions;
    @Inject AdminEvents events;
    @Inject Caller caller;
    @Inject Pages pages;
    @Inject Sso sso;
    @Context UriInfo uri;

    @Inject
    @Location("console/sign-in.html")
    Template signIn;

    @Inject
    @Location("console/home.html")
    Template home;

    @Inject
    @Location("console/continue.html")
    Template proceed;

    @GET
    @Authorize(browser = true)
    public Object overview() {
        return pages.page(home, "home", "Overview").data("roles", caller.principal().roles().stream().sorted().toList())
                .data("tenant", caller.principal().tenant());
    }

    @GET
    @Path("/sign-in")
    @Authorize(anonymous = true)
    public Response signInForm(@QueryParam("next") String next) {
        if (caller.present()) {
            return Response.seeOther(URI.create(Pages.safeNext(next))).build();
        }
        return form(next, null, 200);
    }

    @POST
    @Path("/sign-in")
    @Authorize(anonymous = true)
    public Response signInWithKey(@FormParam("api_key") String apiKey, @FormParam("next") String next,
            @FormParam("_csrf") String token, @CookieParam(SIGN_IN_COOKIE) String cookieToken) {
        if (!sameToken(token, cookieToken)) {
            return form(next, "Your sign-in form expired; please try again.", 403);
        }
        if (apiKey == null || apiKey.isBlank() || apiKey.length() > MAX_KEY_LENGTH) {
            return form(next, "Enter an API key.", 400);
        }
        Principal principal;
        try {
            principal = authenticator.authenticate("Bearer " + apiKey.strip());
        } catch (GatewayException e) {
            if (e.error().status() == 503) {
                throw e;
            }
            return form(next, "That API key was not accepted (" + e.error().code() + ").", e.error().status());
        }
        ConsoleSessions.Session session = open(principal, "api_key");
        return Response.seeOther(URI.create(Pages.safeNext(next))).cookie(Pages.sessionCookie(session.id(), uri))
                .cookie(Pages.expired(SIGN_IN_COOKIE, uri)).build();
    }

    @GET
    @Path("/sso")
    @Authorize(anonymous = true)
    public Response startSso(@QueryParam("next") String next) {
        if (!sso.enabled()) {
            throw new GatewayException(GatewayError.notFound("Single sign-on is not configured on this gateway."));
        }
        String state = ConsoleSessions.token();
        String redirect = uri.getBaseUriBuilder().path("/console/sso/callback").build().toString();
        // Lax, not Strict: the browser comes back from the identity provider, another site.
        return Response.seeOther(URI.create(sso.start(state, redirect, Pages.safeNext(next))))
                .cookie(Pages.cookie(SSO_STATE_COOKIE, state, NewCookie.SameSite.LAX, uri)).build();
    }

    @GET
    @Path("/sso/callback")
    @Authorize(anonymous = true)
    public Response ssoCallback(@QueryParam("state") String state, @QueryParam("code") String code,
            @QueryParam("error") String error, @CookieParam(SSO_STATE_COOKIE) String stateCookie) {
        if (!sso.enabled()) {
            throw new GatewayException(GatewayError.notFound("Single sign-on is not configured on this gateway."));
        }
        if (error != null || !sameToken(state, stateCookie)) {
            return form(null, "Single sign-on did not complete; please try again.", 401);
        }
        Sso.Completed done = sso.complete(state, code);
        Principal principal = authenticator.authenticate("Bearer " + done.accessToken());
        ConsoleSessions.Session session = open(principal, "sso");
        // A page, not a redirect: the browser arrived from another site, and a Strict cookie set now is
        // sent only on a navigation that starts here.
        return Response.ok(pages.page(proceed, "", "Signed in").data("next", done.next()))
                .cookie(Pages.sessionCookie(session.id(), uri)).cookie(Pages.expired(SSO_STATE_COOKIE, uri)).build();
    }

    @POST
    @Path("/sign-out")
    @Authorize(browser = true)
    public Response signOut() {
        Principal principal = caller.principal();
        caller.session().ifPresent(s -> sessions.close(s.id()));
        if (principal.authMethod() == Principal.AuthMethod.JWT && sso.enabled()) {
            // A page that moves on to the realm's logout: the console's form-action policy keeps a form
            // from redirecting to another origin, and the realm's session should end too.
            String signInPage = uri.getBaseUriBuilder().path("/console/sign-in").build().toString();
            return Response.ok(pages.page(proceed, "", "Signed out").data("next", sso.logoutUrl(signInPage)))
                    .cookie(Pages.expired(ConsoleSessions.COOKIE, uri)).build();
        }
        return Response.seeOther(URI.create("/console/sign-in")).cookie(Pages.expired(ConsoleSessions.COOKIE, uri)).build();
    }

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        return pages.refusal(e, uri);
    }

    private ConsoleSessions.Session open(Principal principal, String method) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("method", method);
        details.put("auth_method", principal.authMethod().name().toLowerCase(java.util.Locale.ROOT));
        details.put("username", principal.username());
        // Signing in is evidence too: no console session without its record.
        try {
            events.record(principal.tenant(), principal.subject(), "console.sign_in", details);
        } catch (RuntimeException e) {
            throw new GatewayException(GatewayError.unavailable("audit_unavailable",
                    "The audit trail cannot record the sign-in; please try again later."));
        }
        return sessions.open(principal);
    }

    private Response form(String next, String problem, int status) {
        String token = ConsoleSessions.token();
        var page = pages.page(signIn, "sign-in", "Sign in").data("next", Pages.safeNext(next))
                .data("nextParam", java.net.URLEncoder.encode(Pages.safeNext(next), StandardCharsets.UTF_8)).data("problem", problem)
                .data("signInToken", token).data("sso", sso.enabled());
        return Response.status(status).type(MediaType.TEXT_HTML_TYPE).entity(page)
                .cookie(Pages.cookie(SIGN_IN_COOKIE, token, NewCookie.SameSite.STRICT, uri)).build();
    }

    private static boolean sameToken(String a, String b) {
        return a != null && b != null && !a.isEmpty()
                && MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
