package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
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
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backends in force and their health, and a reload of the backends file on demand (platform
 * administrators). Never shows credentials.
 */
@Path("/admin/backends")
@Produces(MediaType.APPLICATION_JSON)
@Authorize(anyOf = Roles.PLATFORM_ADMIN)
public class BackendAdminResource {

    @Inject
    Caller caller;

    @Inject
    EngineRegistry registry;

    @Inject
    BackendPool pool;

    @Inject
    BackendReload reload;

    @GET
    public Response list() {
        EngineRegistry.Snapshot snapshot = registry.snapshot();
        List<Map<String, Object>> backends = snapshot.backends().stream().map(b -> view(b)).toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("generation", snapshot.generation());
        body.put("backends_file", reload.file().map(Object::toString).orElse(null));
        body.put("backends", backends);
        return Response.ok(body).build();
    }

    @POST
    @Path("reload")
    public Response reload() {
        var principal = caller.principal();
        BackendReload.Result result = reload.reload(principal.subject() + "@" + principal.tenant());
        if (!result.problems().isEmpty()) {
            throw new GatewayException(new GatewayError(422, "invalid_request_error", "backends_rejected", null,
                    "The backends file was not applied: " + result.problems().getFirst()
                            + (result.problems().size() > 1 ? " (and " + (result.problems().size() - 1) + " more)" : ""),
                    null, null).withDetail("problems", result.problems()));
        }
        return Response.ok(result).build();
    }

    private Map<String, Object> view(Backend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", b.id());
        m.put("kind", b.kind().name().toLowerCase(java.util.Locale.ROOT));
        m.put("region", b.region());
        m.put("jurisdiction", b.jurisdiction());
        m.put("models", b.models());
        m.put("available", pool.available(b.id()));
        return m;
    }
}
