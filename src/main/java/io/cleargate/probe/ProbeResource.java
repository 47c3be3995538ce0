package io.cleargate.probe;

import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The probe suite and the model transparency report, behind the admin shell.
 * <ul>
 *   <li>{@code GET /admin/probes/suite}: the probe prompts (any authenticated caller: they are published).</li>
 *   <li>{@code POST /admin/probes/run[?backend=ID]}: run now (gateway-admin); the probes carry the
 *       caller's own credential, so they go through the caller's tenant policy and audit chain.</li>
 *   <li>{@code GET /admin/probes/reports[?backend=&model=&tenant=]}: signed reports over time and the changes
 *       between runs (gateway-admin, compliance-officer of the tenant; auditors for any tenant).</li>
 * </ul>
 */
@Path("/admin/probes")
@Produces(MediaType.APPLICATION_JSON)
public class ProbeResource {

    @Inject
    Caller caller;

    @Inject
    ProbeRunner runner;

    @Inject
    ProbeReports reports;

    @GET
    @Path("/suite")
    @Authorize
    public Map<String, Object> suite() {
        ProbeSuite suite = runner.suite();
        var m = new LinkedHashMap<String, Object>();
        m.put("version", suite.version());
        m.put("sha256", suite.sha256());
        m.put("max_tokens", suite.maxTokens());
        m.put("topics", suite.topics());
        return m;
    }

    @POST
    @Path("/run")
    @Authorize(anyOf = Roles.GATEWAY_ADMIN)
    public Map<String, Object> run(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @QueryParam("backend") String backend) {
        return Map.of("reports", runner.run(authorization, caller.principal(), backend));
    }

    @GET
    @Path("/reports")
    @Authorize(anyOf = {Roles.GATEWAY_ADMIN, Roles.COMPLIANCE_OFFICER, Roles.AUDITOR})
    public Map<String, Object> reports(@QueryParam("tenant") String tenant, @QueryParam("backend") String backend,
            @QueryParam("model") String model) {
        return reports.history(caller.tenantScope(tenant), backend, model);
    }
}
