package io.cleargate.identity.apikey;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Administration of API keys by a tenant's gateway-admin. The tenant is always the caller's
 * own (from the verified credential); naming another tenant in the body is refused.
 *
 * <pre>
 * POST   /admin/api-keys        {"name", "roles": [...], "expires_in_days"?}  → 201, the key shown once
 * GET    /admin/api-keys        → {"object":"list","data":[...]} (never secrets)
 * GET    /admin/api-keys/{id}
 * DELETE /admin/api-keys/{id}   → revokes (idempotent)
 * </pre>
 */
@Path("/admin/api-keys")
@Produces(MediaType.APPLICATION_JSON)
@Authorize(anyOf = Roles.GATEWAY_ADMIN)
public class ApiKeyResource {

    private static final int MAX_BODY = 16 * 1024;

    @Inject
    Caller caller;

    @Inject
    ApiKeyService keys;

    @Inject
    ObjectMapper json;

    /** An API key as the admin API shows it; {@code key} is present only in the creation response. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record View(String object, String id, String prefix, String tenant, String name, Set<String> roles,
            @JsonProperty("created_by") String createdBy, @JsonProperty("created_at") Instant createdAt,
            @JsonProperty("expires_at") Instant expiresAt, @JsonProperty("revoked_at") Instant revokedAt,
            @JsonProperty("revoked_by") String revokedBy, String key) {

        static View of(ApiKey k, String secretKey) {
            return new View("api_key", k.id(), k.prefix(), k.tenant(), k.name(), new TreeSet<>(k.roles()),
                    k.createdBy(), k.createdAt(), k.expiresAt(), k.revokedAt(), k.revokedBy(), secretKey);
        }

        @Override
        public String toString() {
            return "View[" + id + ", prefix " + prefix + "]";
        }
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(String body) {
        JsonNode request = parse(body);
        JsonNode tenant = request.get("tenant");
        if (tenant != null && !tenant.isNull()) {
            caller.requireTenant(tenant.asText());
        }
        String name = request.path("name").isTextual() ? request.get("name").asText() : null;
        Set<String> roles = roles(request.get("roles"));
        Duration lifetime = lifetime(request.get("expires_in_days"));
        ApiKeyService.Created created = keys.create(caller.principal(), name, roles, lifetime);
        return Response.status(Response.Status.CREATED)
                .header("Cache-Control", "no-store")
                .entity(View.of(created.key(), created.secretKey()))
                .build();
    }

    @GET
    public Map<String, Object> list() {
        List<View> data = keys.list(caller.principal()).stream().map(k -> View.of(k, null)).toList();
        return Map.of("object", "list", "data", data);
    }

    @GET
    @Path("{id}")
    public View get(@PathParam("id") String id) {
        return View.of(keys.get(caller.principal(), id), null);
    }

    @DELETE
    @Path("{id}")
    public View revoke(@PathParam("id") String id) {
        return View.of(keys.revoke(caller.principal(), id), null);
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            throw new GatewayException(GatewayError.invalidRequest(null, "A JSON body is required."));
        }
        if (body.length() > MAX_BODY) {
            throw new GatewayException(GatewayError.tooLarge(MAX_BODY));
        }
        try {
            JsonNode node = json.readTree(body);
            if (node == null || !node.isObject()) {
                throw new GatewayException(GatewayError.malformedJson("The body must be a JSON object."));
            }
            return node;
        } catch (IOException e) {
            throw new GatewayException(GatewayError.malformedJson("The body is not valid JSON."));
        }
    }

    private static Set<String> roles(JsonNode node) {
        if (node == null || !node.isArray()) {
            throw new GatewayException(GatewayError.invalidRequest("roles", "roles must be an array of role names."));
        }
        Set<String> roles = new LinkedHashSet<>();
        for (JsonNode role : node) {
            if (!role.isTextual()) {
                throw new GatewayException(GatewayError.invalidRequest("roles", "roles must be strings."));
            }
            roles.add(role.asText());
        }
        return roles;
    }

    private static Duration lifetime(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw new GatewayException(GatewayError.invalidRequest("expires_in_days",
                    "expires_in_days must be a whole number of days."));
        }
        return Duration.ofDays(node.asInt());
    }
}
