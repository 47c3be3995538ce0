package io.cleargate.console;

import io.cleargate.audit.ComplianceResource;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.moderation.ModerationResource;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * What the filter and the policy did, in the open: charts over time from the compliance summary
 * (officers and auditors), and the published rules every tenant user may read.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public class TransparencyPages {

    @Inject ComplianceResource compliance;
    @Inject ModerationResource moderation;
    @Inject Caller caller;
    @Inject Pages pages;
    @Context UriInfo uri;

    @Inject
    @Location("console/transparency.html")
    Template dashboard;

    @Inject
    @Location("console/rules.html")
    Template rules;

    @GET
    @Path("/transparency")
    @Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.AUDITOR}, browser = true)
    @SuppressWarnings("unchecked")
    public TemplateInstance dashboard(@QueryParam("tenant") String tenant, @QueryParam("range") String range) {
        String r = range == null ? "7d" : range;
        Duration back = switch (r) {
            case "24h" -> Duration.ofHours(24);
            case "30d" -> Duration.ofDays(30);
            case "7d" -> Duration.ofDays(7);
            default -> throw new GatewayException(GatewayError.invalidRequest("range", "range is 24h, 7d or 30d."));
        };
        String bucket = "24h".equals(r) ? "hour" : "day";
        Instant now = Instant.now();
        ChronoUnit unit = "hour".equals(bucket) ? ChronoUnit.HOURS : ChronoUnit.DAYS;
        Instant from = now.minus(back).truncatedTo(unit);
        String scoped = tenant == null || tenant.isBlank() ? null : tenant.strip();
        Map<String, Object> summary = compliance.summaryReport(scoped, from.toString(), null, bucket);
        List<Map<String, Object>> rows = (List<Map<String, Object>>) summary.get("rows");
        List<String> buckets = Chart.buckets(from, now, unit);
        List<Chart> charts = List.of(
                Chart.stacked("Requests by tenant", Chart.pivot(rows, "requests", buckets)),
                Chart.stacked("Blocked by category", Chart.pivot(rows, "blocked", buckets)),
                Chart.stacked("Redacted by category", Chart.pivot(rows, "redacted", buckets)),
                Chart.stacked("Policy denials by reason", Chart.pivot(rows, "denials", buckets)));
        return pages.page(dashboard, "transparency", "Transparency").data("charts", charts).data("range", r)
                .data("tenant", scoped == null ? "" : scoped).data("auditor", caller.principal().hasRole(Roles.AUDITOR))
                .data("ranges", List.of("24h", "7d", "30d")).data("bucket", bucket);
    }

    @GET
    @Path("/rules")
    @Authorize(browser = true)
    public TemplateInstance rules() {
        Object body = moderation.rules().getEntity();
        return pages.page(rules, "rules", "What the filter does to my prompts").data("r", body)
                .data("explainer", caller.principal().hasRole(Roles.POLICY_ADMIN)).data("explained", null)
                .data("text", "").data("direction", "input");
    }

    /** The explain pad (policy admins): what a pasted text triggers in the tenant's profile, highlighted. */
    @POST
    @Path("/rules/explain")
    @Authorize(anyOf = Roles.POLICY_ADMIN, browser = true)
    @SuppressWarnings("unchecked")
    public TemplateInstance explain(@FormParam("text") String text, @FormParam("direction") String direction) {
        if (text == null || text.length() > MAX_EXPLAIN) {
            throw new GatewayException(GatewayError.invalidRequest("text", "Paste up to " + MAX_EXPLAIN + " characters."));
        }
        String dir = "output".equals(direction) ? "output" : "input";
        Map<String, Object> explained = (Map<String, Object>) moderation
                .explain(new ModerationResource.ExplainRequest(text, dir, null, null)).getEntity();
        List<Highlight.Span> spans = new java.util.ArrayList<>();
        for (Map<String, Object> v : (List<Map<String, Object>>) explained.get("verdicts")) {
            spans.add(new Highlight.Span(((Number) v.get("start")).intValue(), ((Number) v.get("end")).intValue(),
                    v.get("rule") + " (" + v.get("category") + ", " + v.get("action") + ")"));
        }
        return rules().data("explained", explained).data("marked", Highlight.spans(text, spans)).data("text", text)
                .data("direction", dir);
    }

    static final int MAX_EXPLAIN = 20_000;

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        return pages.refusal(e, uri);
    }
}
