package io.cleargate.console;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Security headers of every console response: a Content-Security-Policy that allows only the
 * gateway's own scripts, styles and connections (no inline script or style, no other origin), no
 * framing, no referrer beyond the origin, and no caching of pages that show audit data.
 */
public class ConsoleHeaders {

    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    @ServerResponseFilter
    public void headers(ContainerRequestContext request, ContainerResponseContext response) {
        if (!request.getUriInfo().getPath().startsWith("/console")) {
            return;
        }
        var h = response.getHeaders();
        h.putSingle("Content-Security-Policy", CSP);
        h.putSingle("X-Content-Type-Options", "nosniff");
        h.putSingle("Referrer-Policy", "same-origin");
        h.putSingle("X-Frame-Options", "DENY");
        h.putSingle("Cache-Control", "no-store");
    }
}
