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
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Policy administration over REST. Drafts are JSON:
 * {@code {"files": {"cleargate/tenants/acme-eu/data.json": "..."}, "deleted": [], "message": "why"}}.
 * A tenant's policy-admin works on its own tenant's files ({@code cleargate/tenants/<tenant>/}) and
 * reads the global modules; a platform-admin works on everything under {@code cleargate/} (see
 * {@link PolicyScope}). Errors use OpenAI's error shape like the rest of the gateway.
 */
@Path("/admin/policies")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Authorize(anyOf = {Roles.POLICY_ADMIN, Roles.PLATFORM_ADMIN})
public class PolicyAdminResource {

    @Inject
    Caller caller;

    @Inject
    PolicyAdministration admin;

    @Inject
    ObjectMapper json;

    @GET
    public Response list() {
        return run(() -> {
            PolicyScope scope = scope();
            Map<String, String> files = admin.files();
            List<Map<String, Object>> listing = files.entrySet().stream().filter(e -> scope.mayRead(e.getKey())).map(e -> {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("path", e.getKey());
                f.put("kind", e.getKey().endsWith(".rego") ? (e.getKey().endsWith("_test.rego") ? "test" : "policy")
                        : "data");
                f.put("editable", scope.mayEdit(e.getKey()));
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
            String owner = PolicyScope.owner(path);
            if (owner != null) {
                caller.requireTenant(owner);
            }
            String content = admin.files().get(path);
            if (content == null) {
                throw new GatewayException(GatewayError.notFound("No policy file '" + path + "'."));
            }
            return Response.ok(Map.of("path", path, "content", content)).build();
        });
    }

    /** Every tenant's settings for a platform administrator; a tenant's administrator sees its own only. */
    @GET
    @Path("tenants")
    public Response tenants() {
        return run(() -> {
            Map<String, Object> all = tenantData();
            if (!scope().isPlatform()) {
                String own = caller.principal().tenant();
                all = all.containsKey(own) ? Map.of(own, all.get(own)) : Map.of();
            }
            return Response.ok(all).build();
        });
    }

    @GET
    @Path("tenants/{tenant}")
    public Response tenant(@PathParam("tenant") String tenant) {
        return run(() -> {
            caller.requireTenant(tenant);
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
        return run(() -> Response.ok(admin.validate(scope(), orEmpty(draft))).build());
    }

    @POST
    @Path("test")
    public Response test(PolicyAdministration.Draft draft) {
        return run(() -> Response.ok(admin.test(scope(), orEmpty(draft))).build());
    }

    /** Replays the caller's own tenant's recorded requests (a platform administrator names the tenant). */
    @POST
    @Path("what-if")
    public Response whatIf(@QueryParam("tenant") String tenant,
            @QueryParam("n") Integer n, PolicyAdministration.Draft draft) {
        return run(() -> {
            String scoped = caller.tenantScope(tenant);
            if (scoped == null) {
                throw new GatewayException(GatewayError.invalidRequest("tenant", "Name the tenant whose requests to replay."));
            }
            return Response.ok(admin.whatIf(scope(), orEmpty(draft), scoped, n)).build();
        });
    }

    @POST
    @Path("activate")
    public Response activate(PolicyAdministration.Draft draft) {
        return run(() -> Response.ok(admin.activate(caller.principal(), scope(), orEmpty(draft))).build());
    }

    @GET
    @Path("history")
    public Response history(@QueryParam("limit") @DefaultValue("50") int limit) {
        return run(() -> Response.ok(admin.history(scope(), limit).stream().map(c -> view(c, false)).toList()).build());
    }

    @GET
    @Path("history/{id}")
    public Response change(@PathParam("id") long id) {
        return run(() -> {
            PolicyChange c = admin.change(scope(), id);
            if (c == null) {
                throw new GatewayException(GatewayError.notFound("No policy change #" + id + "."));
            }
            return Response.ok(view(c, true)).build();
        });
    }

    /**
     * The files change {@code id} wrote (path to content, null for a deleted file), with the revision
     * the tree had before and has after it: what GitOps delivery commits to become the next bundle.
     */
    @GET
    @Path("history/{id}/changes")
    public Response changes(@PathParam("id") long id) {
        return run(() -> {
            PolicyAdministration.ApprovedChange c = admin.approved(scope(), id);
            if (c == null) {
                throw new GatewayException(GatewayError.notFound("No policy change #" + id + "."));
            }
            return Response.ok(c).build();
        });
    }

    @POST
    @Path("history/{id}/rollback")
    public Response rollback(@PathParam("id") long id) {
        return run(() -> {
            if (admin.change(scope(), id) == null) {
                throw new GatewayException(GatewayError.notFound("No policy change #" + id + "."));
            }
            return Response.ok(admin.rollback(caller.principal(), scope(), id)).build();
        });
    }

    /** The platform scope when the platform-admin role admitted the caller, else the caller's tenant. */
    private PolicyScope scope() {
        return caller.platformScoped() ? PolicyScope.platform() : PolicyScope.ofTenant(caller.principal().tenant());
    }

    /** Runs an administration action, turning its refusals into the shell's one error mapping. */
    static Response run(Supplier<Response> action) {
        try {
            return action.get();
        } catch (PolicyAdministration.OutOfScope e) {
            throw new GatewayException(GatewayError.forbidden("policy_out_of_scope", e.getMessage()));
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

    /** Every tenant's settings: {@code cleargate/tenants/<tenant>/data.json}, by tenant. */
    private Map<String, Object> tenantData() {
        Map<String, Object> tenants = new TreeMap<>();
        admin.files().forEach((path, text) -> {
            String owner = PolicyScope.owner(path);
            if (owner != null && path.equals(PolicyScope.TENANTS + owner + "/data.json")) {
                try {
                    tenants.put(owner, json.readValue(text, Map.class));
                } catch (IOException e) {
                    throw new IllegalStateException("the settings of tenant " + owner + " are not valid JSON", e);
                }
            }
        });
        return tenants;
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
