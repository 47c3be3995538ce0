package io.cleargate.probe;

import io.cleargate.identity.Authenticator;
import io.cleargate.identity.Principal;
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
 * The probe suite and the model transparency report.
 * <ul>
 *   <li>{@code GET /admin/probes/suite}: the probe prompts (any authenticated caller: they are published).</li>
 *   <li>{@code POST /admin/probes/run[?backend=ID]}: run now (gateway-admin); the probes go through the
 *       caller's own tenant policy and audit chain.</li>
 *   <li>{@code GET /admin/probes/reports[?backend=&model=&tenant=]}: signed reports over time and the changes
 *       between runs (gateway-admin, compliance-officer of the tenant; auditors for any tenant).</li>
 * </ul>
 */
@Path("/admin/probes")
@Produces(MediaType.APPLICATION_JSON)
public class ProbeResource {

    @Inject
    Authenticator authenticator;

    @Inject
    ProbeRunner runner;

    @Inject
    ProbeReports reports;

    @GET
    @Path("/suite")
    public Map<String, Object> suite(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        authenticator.require(authorization, Roles.GATEWAY_USER, Roles.GATEWAY_ADMIN, Roles.POLICY_ADMIN,
                Roles.COMPLIANCE_OFFICER, Roles.AUDITOR);
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
    public Map<String, Object> run(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @QueryParam("backend") String backend) {
        Principal caller = authenticator.require(authorization, Roles.GATEWAY_ADMIN);
        return Map.of("reports", runner.run(authorization, caller, backend));
    }

    @GET
    @Path("/reports")
    public Map<String, Object> reports(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @QueryParam("tenant") String tenant, @QueryParam("backend") String backend, @QueryParam("model") String model) {
        Principal caller = authenticator.require(authorization, Roles.GATEWAY_ADMIN, Roles.COMPLIANCE_OFFICER, Roles.AUDITOR);
        String scope;
        if (caller.roles().contains(Roles.AUDITOR)) {
            scope = tenant;
        } else {
            if (tenant != null) {
                Authenticator.requireSameTenant(caller, tenant);
            }
            scope = caller.tenant();
        }
        return reports.history(scope, backend, model);
    }
}
