package io.cleargate.probe;

import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The probe suite and the model transparency report, behind the admin shell. Probes run as the
 * platform (the {@code _platform} tenant, its policy and audit chain), never as the caller.
 * <ul>
 *   <li>{@code GET /admin/probes/suite}: the probe prompts (any authenticated caller: they are published).</li>
 *   <li>{@code POST /admin/probes/run[?backend=ID&label=NAME]}: run now (platform-admin); the run
 *       and who started it are recorded in the platform's chain.</li>
 *   <li>{@code GET /admin/probes/reports[?backend=&model=]}: every signed report over time and the
 *       changes between consecutive runs (platform-admin; auditors, read-only).</li>
 *   <li>{@code GET /admin/probes/published}: the latest signed report of every backend and model,
 *       for every signed-in user: it is about the models, not about any tenant's data.</li>
 *   <li>{@code GET /admin/probes/diff?from=ENTRY&to=ENTRY}: what changed between two reports, by
 *       their audit entry ids: two model versions, or two backends (every signed-in user, like the
 *       reports it compares).</li>
 * </ul>
 */
@Path("/admin/probes")
@Produces(MediaType.APPLICATION_JSON)
public class ProbeResource {

    /** A label is an operator's name for a model build; kept to characters that need no escaping anywhere. */
    static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

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
    @Authorize(anyOf = Roles.PLATFORM_ADMIN)
    public Map<String, Object> run(@QueryParam("backend") String backend, @QueryParam("label") String label) {
        if (label != null && !LABEL.matcher(label).matches()) {
            throw new GatewayException(GatewayError.invalidRequest("label",
                    "label is 1-64 letters, digits, '.', '_', ':' or '-'."));
        }
        return Map.of("reports", runner.run(caller.principal().subject(), backend, label));
    }

    @GET
    @Path("/reports")
    @Authorize(anyOf = {Roles.PLATFORM_ADMIN, Roles.AUDITOR})
    public Map<String, Object> reports(@QueryParam("backend") String backend, @QueryParam("model") String model) {
        return reports.history(backend, model);
    }

    @GET
    @Path("/diff")
    @Authorize
    public Map<String, Object> diff(@QueryParam("from") Long from, @QueryParam("to") Long to) {
        if (from == null || to == null) {
            throw new GatewayException(GatewayError.invalidRequest(from == null ? "from" : "to",
                    "from and to name two reports by their audit entry ids (GET /admin/probes/reports)."));
        }
        return reports.diff(from, to);
    }

    @GET
    @Path("/published")
    @Authorize
    public Map<String, Object> published() {
        return reports.latest();
    }
}
