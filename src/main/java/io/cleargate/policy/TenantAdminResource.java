package io.cleargate.policy;

import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.tenant.Tenant;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tenants, by a platform administrator, without a restart: a tenant is its entry in the policy data,
 * so adding, suspending and resuming one is a policy change (validated, tested, checked for
 * malformed decisions, activated with history and rollback), after which the tenant table follows
 * ({@link PolicyTenants}) and a tenant admin event is recorded in that tenant's trail.
 */
@Path("/admin/tenants")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Authorize(anyOf = Roles.PLATFORM_ADMIN)
public class TenantAdminResource {

    /** A new tenant: its id, its settings as the policy data holds them, and why. */
    public record NewTenant(String id, Map<String, Object> settings, String message) {}

    /** Why a tenant is suspended or resumed. */
    public record Reason(String message) {}

    @Inject
    Caller caller;

    @Inject
    PolicyAdministration admin;

    @Inject
    PolicyTenants tenants;

    @Inject
    AdminEvents events;

    @GET
    public Response list() {
        return PolicyAdminResource.run(() -> {
            List<Map<String, Object>> out = tenants.read(admin.files()).entrySet().stream().map(e -> {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("id", e.getKey());
                t.put("jurisdiction", e.getValue().get("jurisdiction"));
                t.put("description", e.getValue().get("description"));
                t.put("suspended", Boolean.TRUE.equals(e.getValue().get("suspended")));
                return t;
            }).toList();
            return Response.ok(Map.of("tenants", out)).build();
        });
    }

    @POST
    public Response create(NewTenant request) {
        return PolicyAdminResource.run(() -> {
            if (request == null || !Tenant.isValidId(request.id())) {
                throw new GatewayException(GatewayError.invalidRequest("id", "id must match " + Tenant.ID.pattern()));
            }
            if (request.settings() == null || request.settings().isEmpty()) {
                throw new GatewayException(GatewayError.invalidRequest("settings", "settings are required"));
            }
            Map<String, String> files = admin.files();
            if (tenants.read(files).containsKey(request.id())) {
                throw new GatewayException(new GatewayError(409, "invalid_request_error", "tenant_exists", "id",
                        "Tenant '" + request.id() + "' already exists.", null, null));
            }
            return change(request.id(), new LinkedHashMap<>(request.settings()), "tenant.create",
                    message(request.message(), "add tenant " + request.id()));
        });
    }

    @POST
    @Path("{id}/suspend")
    public Response suspend(@PathParam("id") String id, Reason reason) {
        return PolicyAdminResource.run(() -> setSuspended(id, true, reason));
    }

    @POST
    @Path("{id}/resume")
    public Response resume(@PathParam("id") String id, Reason reason) {
        return PolicyAdminResource.run(() -> setSuspended(id, false, reason));
    }

    private Response setSuspended(String id, boolean suspended, Reason reason) {
        Map<String, Object> settings = tenants.read(admin.files()).get(id);
        if (settings == null) {
            throw new GatewayException(GatewayError.notFound("No tenant '" + id + "' in the policy data."));
        }
        Map<String, Object> changed = new LinkedHashMap<>(settings);
        if (suspended) {
            changed.put("suspended", true);
        } else {
            changed.remove("suspended");
        }
        String action = suspended ? "tenant.suspend" : "tenant.resume";
        return change(id, changed, action, message(reason == null ? null : reason.message(),
                (suspended ? "suspend" : "resume") + " tenant " + id));
    }

    private Response change(String id, Map<String, Object> settings, String action, String message) {
        Principal who = caller.principal();
        var draft = new PolicyAdministration.Draft(tenants.withTenant(admin.files(), id, settings), null, message);
        PolicyAdministration.Activation activation = admin.activate(who, PolicyScope.platform(), draft);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("tenant", id);
        details.put("history_id", activation.historyId());
        details.put("revision", activation.revision());
        details.put("message", message);
        events.record(id, who.subject(), action, details);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("tenant", id);
        body.put("action", action);
        body.put("activation", activation);
        return Response.ok(body).build();
    }

    private static String message(String given, String fallback) {
        return given == null || given.isBlank() ? fallback : given.length() > 500 ? given.substring(0, 500) : given;
    }
}
