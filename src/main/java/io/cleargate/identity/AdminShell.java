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

    private final Authenticator authenticator;
    private final Caller caller;

    @Inject
    public AdminShell(Authenticator authenticator, Caller caller) {
        this.authenticator = authenticator;
        this.caller = caller;
    }

    @ServerRequestFilter
    public void filter(ContainerRequestContext request, ResourceInfo resource) {
        admit(request.getHeaderString(HttpHeaders.AUTHORIZATION), resource);
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
