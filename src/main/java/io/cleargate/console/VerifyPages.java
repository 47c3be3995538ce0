package io.cleargate.console;

import io.cleargate.audit.ComplianceResource;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayException;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Chain verification: each chain in scope verified on request (a walk over the whole chain, as
 * {@code GET /audit/verify} does), its first bad sequence number when it breaks, and the latest
 * signed checkpoints, downloadable as lines an offline verifier can pin.
 */
@Path("/console/verify")
@Produces(MediaType.TEXT_HTML)
@Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.AUDITOR}, browser = true)
public class VerifyPages {

    @Inject ComplianceResource compliance;
    @Inject Caller caller;
    @Inject Pages pages;
    @Inject ObjectMapper json;
    @Context UriInfo uri;

    @Inject
    @Location("console/verify.html")
    Template verify;

    @GET
    public TemplateInstance status(@QueryParam("tenant") String tenant, @QueryParam("run") String run) {
        Map<String, Object> checkpoints = compliance.checkpoints(tenant, 5);
        Map<String, Object> result = "now".equals(run) ? compliance.verify(tenant) : null;
        return pages.page(verify, "verify", "Verification").data("result", result).data("cp", checkpoints)
                .data("tenant", tenant == null ? "" : tenant).data("auditor", caller.principal().hasRole(Roles.AUDITOR));
    }

    @GET
    @Path("/checkpoints.jsonl")
    @Produces("application/x-ndjson")
    @SuppressWarnings("unchecked")
    public Response download(@QueryParam("tenant") String tenant) {
        Map<String, Object> checkpoints = compliance.checkpoints(tenant, 100);
        StringBuilder out = new StringBuilder();
        for (Map<String, Object> c : (List<Map<String, Object>>) checkpoints.get("checkpoints")) {
            var line = new java.util.LinkedHashMap<>(c);
            line.remove("valid");
            try {
                out.append(json.writeValueAsString(line)).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Response.ok(out.toString(), "application/x-ndjson")
                .header("Content-Disposition", "attachment; filename=\"cleargate-checkpoints.jsonl\"").build();
    }

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        return pages.refusal(e, uri);
    }
}
