package io.cleargate.moderation;

import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.moderation.Verdict.Direction;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.policy.PolicyDecision;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Transparency endpoints. GET /v1/moderation/rules publishes the caller's tenant's active rules
 * to its users; POST /v1/moderation/explain lets a policy admin see which detector, pattern,
 * normalisation and score lead to each verdict on a sample text.
 */
@Path("/v1/moderation")
@Produces(MediaType.APPLICATION_JSON)
@Authorize
public class ModerationResource {

    /** Explain mode input. @param direction input or output @param profile another profile to try (optional) */
    public record ExplainRequest(String text, String direction, String profile, Map<String, String> overrides) {}

    private final ModerationService moderation;
    private final Caller caller;
    private final TenantModerationSettings settings;

    @Inject
    public ModerationResource(ModerationService moderation, Caller caller, TenantModerationSettings settings) {
        this.moderation = moderation;
        this.caller = caller;
        this.settings = settings;
    }

    @GET
    @Path("/rules")
    public Response rules() {
        Principal principal = caller.principal();
        RuleSet rules = moderation.rulesFor(settings.forTenant(principal));
        var body = new LinkedHashMap<String, Object>();
        body.put("object", "moderation.rules");
        body.put("tenant", principal.tenant());
        body.put("profile", rules.profile());
        moderation.store().profile(rules.profile()).ifPresent(p -> body.put("description", p.description()));
        body.put("revision", moderation.store().status().active().sha256());
        List<Map<String, Object>> list = new ArrayList<>();
        for (Rule r : rules.rules()) {
            var m = new LinkedHashMap<String, Object>();
            m.put("id", r.id());
            m.put("category", r.category());
            m.put("description", r.description());
            m.put("detector", r.detector().type());
            m.put("input", action(r.input()));
            m.put("output", action(r.output()));
            m.put("threshold", r.threshold());
            list.add(m);
        }
        body.put("rules", list);
        return Response.ok(body).build();
    }

    @POST
    @Path("/explain")
    @Consumes(MediaType.APPLICATION_JSON)
    @Authorize(anyOf = Roles.POLICY_ADMIN)
    public Response explain(ExplainRequest request) {
        Principal principal = caller.principal();
        if (request == null || request.text() == null) {
            throw new GatewayException(GatewayError.invalidRequest("text", "text is required"));
        }
        Direction direction = parseDirection(request.direction());
        PolicyDecision.ModerationSettings tenant = settings.forTenant(principal);
        var chosen = request.profile() == null && request.overrides() == null ? tenant
                : new PolicyDecision.ModerationSettings(request.profile() == null ? tenant.profile() : request.profile(),
                        request.overrides() == null ? tenant.overrides() : request.overrides());
        RuleSet rules = moderation.rulesFor(chosen);
        return Response.ok(Explanation.of(rules, request.text(), direction)).build();
    }

    private static Direction parseDirection(String value) {
        if (value == null || value.equalsIgnoreCase("input")) {
            return Direction.INPUT;
        }
        if (value.equalsIgnoreCase("output")) {
            return Direction.OUTPUT;
        }
        throw new GatewayException(GatewayError.invalidRequest("direction", "direction must be input or output"));
    }

    private static String action(Verdict.Action a) {
        return a == null ? "off" : ModerationSummary.lower(a);
    }
}
