package io.cleargate.console;

import io.cleargate.config.GatewayConfig;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.policy.TenantModels;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.TreeSet;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The playground: a chat with a model through the whole pipeline (identity, policy, moderation,
 * routing, audit), streamed. The page's script calls {@code /v1/chat/completions} itself with the
 * session's CSRF token, so the answer takes exactly the path an API client's does, and shows the
 * moderation verdicts, region and backend the gateway reports for it.
 */
@Path("/console/playground")
@Produces(MediaType.TEXT_HTML)
@Authorize(anyOf = Roles.GATEWAY_USER, browser = true)
public class PlaygroundPage {

    @Inject GatewayConfig config;
    @Inject TenantModels tenantModels;
    @Inject Caller caller;
    @Inject Pages pages;
    @Context UriInfo uri;

    @Inject
    @Location("console/playground.html")
    Template playground;

    @GET
    public TemplateInstance page() {
        TreeSet<String> served = new TreeSet<>();
        config.backends().values().forEach(b -> b.models().ifPresent(served::addAll));
        // Only the chat models the caller's tenant may use, as /v1/models lists them: offering one
        // the policy refuses would only end in model_not_found.
        List<String> models = tenantModels.visible(caller.principal(), List.copyOf(served));
        return pages.page(playground, "playground", "Playground").data("models", models);
    }

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        return pages.refusal(e, uri);
    }
}
