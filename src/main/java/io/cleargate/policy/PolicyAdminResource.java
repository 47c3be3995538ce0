package io.cleargate.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Policy administration over REST (role policy-admin). Drafts are JSON:
 * {@code {"files": {"cleargate/tenants/data.json": "..."}, "deleted": [], "message": "why"}}.
 * Errors use OpenAI's error shape like the rest of the gateway.
 */
@Path("/admin/policies")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Authorize(anyOf = Roles.POLICY_ADMIN)
public class PolicyAdminResource {

    private static final String TENANTS_FILE = "cleargate/tenants/data.json";

    @Inject
    Caller caller;

    @Inject
    PolicyAdministration admin;

    @Inject
    ObjectMapper json;

    @GET
    public Response list() {
        return run(() -> {
            Map<String, String> files = admin.files();
            List<Map<String, Object>> listing = files.entrySet().stream().map(e -> {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("path", e.getKey());
                f.put("kind", e.getKey().endsWith(".rego") ? (e.getKey().endsWith("_test.rego") ? "test" : "policy")
                        : "data");
                f.put("editable", e.getKey().startsWith("cleargate/"));
                f.put("sha256", PolicyTree.sha256(e.getValue()));
                return f;
            }).toList();
            return Response.ok(Map.of("revision", PolicyTree.revision(files), "files", listing)).build();
        });
    }

    @GET
    @Path("files/{path: .+}")
    public Response read(@PathParam("path") String path) {
        return run(() -> {
            String content = admin.files().get(path);
            if (content == null) {
                throw new GatewayException(GatewayError.notFound("No policy file '" + path + "'."));
            }
            return Response.ok(Map.of("path", path, "content", content)).build();
        });
    }

    @GET
    @Path("tenants")
    public Response tenants() {
        return run(() -> Response.ok(tenantData()).build());
    }

    @GET
    @Path("tenants/{tenant}")
    public Response tenant(@PathParam("tenant") String tenant) {
        return run(() -> {
            Object settings = tenantData().get(tenant);
            if (settings == null) {
                throw new GatewayException(GatewayError.notFound("No tenant '" + tenant + "' in the policy data."));
            }
            return Response.ok(settings).build();
        });
    }

    @POST
    @Path("validate")
    public Response validate(PolicyAdministration.Draft draft) {
        return run(() -> Response.ok(admin.validate(orEmpty(draft))).build());
    }

    @POST
    @Path("test")
    public Response test(PolicyAdministration.Draft draft) {
        return run(() -> Response.ok(admin.test(orEmpty(draft))).build());
    }

    @POST
    @Path("what-if")
    public Response whatIf(@QueryParam("tenant") String tenant,
            @QueryParam("n") Integer n, PolicyAdministration.Draft draft) {
        return run(() -> Response.ok(admin.whatIf(orEmpty(draft), tenant, n)).build());
    }

    @POST
    @Path("activate")
    public Response activate(PolicyAdministration.Draft draft) {
        return run(() -> Response.ok(admin.activate(caller.principal(), orEmpty(draft))).build());
    }

    @GET
    @Path("history")
    public Response history(@QueryParam("limit") @DefaultValue("50") int limit) {
        return run(() -> Response.ok(admin.history(limit).stream().map(c -> view(c, false)).toList()).build());
    }

    @GET
    @Path("history/{id}")
    public Response change(@PathParam("id") long id) {
        return run(() -> {
            PolicyChange c = admin.change(id);
            if (c == null) {
                throw new GatewayException(GatewayError.notFound("No policy change #" + id + "."));
            }
            return Response.ok(view(c, true)).build();
        });
    }

    @POST
    @Path("history/{id}/rollback")
    public Response rollback(@PathParam("id") long id) {
        return run(() -> {
            if (admin.change(id) == null) {
                throw new GatewayException(GatewayError.notFound("No policy change #" + id + "."));
            }
            return Response.ok(admin.rollback(caller.principal(), id)).build();
        });
    }

    /** Runs an administration action, turning its refusals into the shell's one error mapping. */
    static Response run(Supplier<Response> action) {
        try {
            return action.get();
        } catch (PolicyAdministration.DraftRejected e) {
            GatewayError err = new GatewayError(422, "invalid_request_error", "policy_draft_rejected", null,
                    e.getMessage(), null, null);
            if (e.validation() != null) {
                err = err.withDetail("errors", e.validation().errors());
            }
            if (e.tests() != null) {
                err = err.withDetail("tests", e.tests());
            }
            throw new GatewayException(err);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(GatewayError.invalidRequest(null, e.getMessage()));
        } catch (OpaAdminClient.Rejected e) {
            throw new GatewayException(GatewayError.upstream(502, "policy_rejected_by_opa", e.getMessage())
                    .withDetail("errors", e.errors()));
        } catch (IllegalStateException e) {
            throw new GatewayException(GatewayError.unavailable("policy_unavailable", e.getMessage()));
        }
    }

    private static PolicyAdministration.Draft orEmpty(PolicyAdministration.Draft draft) {
        return draft == null ? new PolicyAdministration.Draft(null, null, null) : draft;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> tenantData() {
        String text = admin.files().get(TENANTS_FILE);
        if (text == null) {
            return Map.of();
        }
        try {
            return json.readValue(text, Map.class);
        } catch (IOException e) {
            throw new IllegalStateException("tenant data is not valid JSON", e);
        }
    }

    private static Map<String, Object> view(PolicyChange c, boolean full) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", c.id);
        v.put("changed_at", c.changedAt.toString());
        v.put("author", c.author);
        v.put("author_tenant", c.authorTenant);
        v.put("action", c.action);
        v.put("message", c.message);
        v.put("revision", c.revision);
        v.put("previous_revision", c.previousRevision);
        v.put("files", List.of(c.files.split(",")));
        if (full) {
            v.put("diff", c.diff);
        }
        return v;
    }
}
