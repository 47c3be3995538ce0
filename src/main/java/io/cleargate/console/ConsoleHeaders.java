package io.cleargate.console;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Security headers of every console response: a Content-Security-Policy that allows only the
 * gateway's own scripts, styles and connections (no inline script or style, no other origin), no
 * framing, no referrer beyond the origin, and no caching of pages that show audit data.
 *
 * <p>Set on the HTTP router ahead of every handler, not in a JAX-RS filter, so that the
 * stylesheet and script, redirects and even an unexpected server error under /console carry them.
 */
@ApplicationScoped
public class ConsoleHeaders {

    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    void register(@Observes Router router) {
        router.route("/console*").order(-100).handler(ctx -> {
            ctx.addHeadersEndHandler(done -> {
                var h = ctx.response().headers();
                h.set("Content-Security-Policy", CSP);
                h.set("X-Content-Type-Options", "nosniff");
                h.set("Referrer-Policy", "same-origin");
                h.set("X-Frame-Options", "DENY");
                h.set("Cache-Control", ctx.request().path().startsWith("/console/assets/") ? "no-cache" : "no-store");
            });
            ctx.next();
        });
    }
}
