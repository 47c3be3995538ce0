package io.cleargate.console;

import io.cleargate.identity.Caller;
import io.cleargate.identity.ConsoleSessions;
import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayException;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What every console page shares: who is signed in, the navigation their roles and tenant allow,
 * the CSRF token for forms, and how refusals become pages (401 sends the browser to sign-in).
 */
@RequestScoped
public class Pages {

    /** One navigation entry, shown only to callers holding one of {@code roles} (empty: everyone). */
    public record NavItem(String key, String label, String href, Set<String> roles) {}

    static final List<NavItem> NAV = List.of(
            new NavItem("home", "Overview", "/console", Set.of()),
            new NavItem("audit", "Audit explorer", "/console/audit", Set.of(Roles.COMPLIANCE_OFFICER, Roles.AUDITOR)),
            new NavItem("verify", "Verification", "/console/verify", Set.of(Roles.COMPLIANCE_OFFICER, Roles.AUDITOR)),
            new NavItem("transparency", "Transparency", "/console/transparency",
                    Set.of(Roles.COMPLIANCE_OFFICER, Roles.AUDITOR)),
            new NavItem("rules", "Published rules", "/console/rules", Set.of()),
            new NavItem("models", "Model transparency", "/console/models", Set.of()),
            new NavItem("policies", "Policy workbench", "/console/policies", Set.of(Roles.POLICY_ADMIN)),
            new NavItem("playground", "Playground", "/console/playground", Set.of(Roles.GATEWAY_USER)));

    @Inject Caller caller;

    @Inject
    @Location("console/error.html")
    Template error;

    /** The entries the caller may use; the pages behind the others refuse them anyway. */
    public List<NavItem> nav() {
        if (!caller.present()) {
            return List.of();
        }
        Principal p = caller.principal();
        List<NavItem> items = new ArrayList<>();
        for (NavItem item : NAV) {
            if (item.roles().isEmpty() || item.roles().stream().anyMatch(p::hasRole)) {
                items.add(item);
            }
        }
        return items;
    }

    /** A page with the shared data filled in; {@code active} is its navigation key. */
    public TemplateInstance page(Template template, String active, String title) {
        Principal p = caller.present() ? caller.principal() : null;
        return template.data("nav", nav()).data("active", active).data("title", title).data("me", p)
                .data("csrf", caller.session().map(ConsoleSessions.Session::csrf).orElse(""))
                .data("displayName", p == null ? null : displayName(p));
    }

    static String displayName(Principal p) {
        if (p.username() != null) {
            return p.username();
        }
        return p.email() != null ? p.email() : p.subject();
    }

    /** A refusal as a page: sign-in for 401, else the error page with the gateway's message. */
    public Response refusal(GatewayException e, UriInfo uri) {
        var err = e.error();
        if (err.status() == 401) {
            String next = uri.getRequestUri().getRawPath();
            String query = uri.getRequestUri().getRawQuery();
            if (query != null) {
                next += "?" + query;
            }
            return Response.seeOther(URI.create("/console/sign-in?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8)))
                    .cookie(expired(ConsoleSessions.COOKIE, uri)).build();
        }
        TemplateInstance body = page(error, "", "Error " + err.status()).data("status", err.status())
                .data("code", err.code()).data("message", err.message());
        return Response.status(err.status()).type(MediaType.TEXT_HTML_TYPE).entity(body).build();
    }

    /** True when the browser reached us over TLS (directly or as forwarded by a trusted proxy). */
    static boolean secure(UriInfo uri) {
        return "https".equalsIgnoreCase(uri.getBaseUri().getScheme());
    }

    /**
     * The session cookie: HttpOnly, SameSite=Strict, Secure under TLS. Path "/" so the playground's
     * calls to /v1 carry it too; only console pages, and /v1 with the session's CSRF header, accept it.
     */
    static NewCookie sessionCookie(String id, UriInfo uri) {
        return new NewCookie.Builder(ConsoleSessions.COOKIE).value(id).path("/").httpOnly(true)
                .secure(secure(uri)).sameSite(NewCookie.SameSite.STRICT).build();
    }

    static NewCookie cookie(String name, String value, NewCookie.SameSite sameSite, UriInfo uri) {
        return new NewCookie.Builder(name).value(value).path("/console").httpOnly(true).secure(secure(uri))
                .sameSite(sameSite).maxAge(600).build();
    }

    static NewCookie expired(String name, UriInfo uri) {
        return new NewCookie.Builder(name).value("").path(ConsoleSessions.COOKIE.equals(name) ? "/" : "/console").httpOnly(true).secure(secure(uri))
                .sameSite(NewCookie.SameSite.STRICT).maxAge(0).build();
    }

    /** A return path after sign-in: only console paths of this origin. */
    static String safeNext(String next) {
        if (next == null || !next.startsWith("/console") || next.startsWith("//") || next.contains("\\")
                || next.length() > 2000) {
            return "/console";
        }
        return next;
    }
}
