package io.cleargate.console;

import io.cleargate.identity.Authorize;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.probe.ProbeReports;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The model transparency report, for every signed-in user (it is about the models, not about any
 * tenant's data): per backend and model how the platform's probe suite came out topic by topic
 * (answered, refused, deflected, partly answered) beside how often the filter acted, the runs over
 * time, what changed between two runs, and how to check the signatures offline. Read straight
 * from the probe suite's signed reports; there is no tenant scope to apply.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public class ModelTransparencyPage {

    @Inject ProbeReports reports;
    @Inject Pages pages;
    @Context UriInfo uri;

    @Inject
    @Location("console/models.html")
    Template models;

    @GET
    @Path("/models")
    @Authorize(browser = true)
    public TemplateInstance models(@QueryParam("from") Long from, @QueryParam("to") Long to) {
        Map<String, Object> history = reports.history(null, null);
        Map<String, Object> diff = from != null && to != null ? reports.diff(from, to) : null;
        return pages.page(models, "models", "Model transparency").data("t", ModelTransparency.of(history, diff))
                .data("publicKey", history.get("public_key")).data("keyId", history.get("key_id"))
                .data("from", from == null ? -1 : from).data("to", to == null ? -1 : to);
    }

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        return pages.refusal(e, uri);
    }
}
