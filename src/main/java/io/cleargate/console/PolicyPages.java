package io.cleargate.console;

import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.policy.OpaCli;
import io.cleargate.policy.PolicyAdminResource;
import io.cleargate.policy.PolicyAdministration;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The policy workbench, on the policy administration API's own resource: files, an editor with a
 * highlighted listing, validation with errors at row and column, the Rego tests, what-if over the
 * tenant's recent traffic, activation with a change note, history with diffs, and rollback.
 *
 * <p>The bundle is one for all tenants (the administration API's scope); the workbench shows each
 * policy admin the history of changes made by their own tenant's admins only, and refuses to roll
 * back another tenant's change.
 */
@Path("/console/policies")
@Produces(MediaType.TEXT_HTML)
@Authorize(anyOf = Roles.POLICY_ADMIN, browser = true)
public class PolicyPages {

    static final int MAX_SOURCE = 256 * 1024;

    @Inject PolicyAdminResource admin;
    @Inject Caller caller;
    @Inject Pages pages;
    @Context UriInfo uri;

    @Inject
    @Location("console/policies.html")
    Template index;

    @Inject
    @Location("console/policy-edit.html")
    Template editor;

    @Inject
    @Location("console/policy-change.html")
    Template change;

    @GET
    @SuppressWarnings("unchecked")
    public TemplateInstance files(@QueryParam("revision") String revision) {
        Map<String, Object> listing = (Map<String, Object>) admin.list().getEntity();
        return pages.page(index, "policies", "Policy workbench").data("listing", listing)
                .data("history", history(revision)).data("revision", revision);
    }

    @GET
    @Path("/edit")
    @SuppressWarnings("unchecked")
    public TemplateInstance edit(@QueryParam("path") String path) {
        if (path == null || path.isBlank()) {
            throw new GatewayException(GatewayError.invalidRequest("path", "Name the policy file to edit (?path=...)."));
        }
        Map<String, Object> file = (Map<String, Object>) admin.read(path).getEntity();
        return editorPage(path, (String) file.get("content"), "", null);
    }

    /** One form, four buttons: validate, test, what-if, activate (each on the draft as typed). */
    @POST
    @Path("/draft")
    public Object draft(@FormParam("path") String path, @FormParam("content") String content,
            @FormParam("message") String message, @FormParam("step") String step, @FormParam("tenant") String tenant) {
        if (path == null || content == null || content.length() > MAX_SOURCE) {
            throw new GatewayException(GatewayError.invalidRequest("content", "A draft names a file and is at most "
                    + MAX_SOURCE + " characters."));
        }
        String normalized = content.replace("\r\n", "\n");
        var draft = new PolicyAdministration.Draft(Map.of(path, normalized), List.of(), message);
        String note = message == null ? "" : message;
        return switch (step == null ? "validate" : step) {
            case "test" -> editorPage(path, normalized, note, Map.of("tests", admin.test(draft).getEntity()));
            case "what-if" -> editorPage(path, normalized, note, Map.of("whatIf",
                    admin.whatIf(tenant == null || tenant.isBlank() ? caller.principal().tenant() : tenant, 50, draft).getEntity()));
            case "activate" -> {
                if (note.isBlank()) {
                    yield editorPage(path, normalized, note, Map.of("problem", "Write a change note before activating."));
                }
                admin.activate(draft);
                yield Response.seeOther(URI.create("/console/policies?activated=1")).build();
            }
            default -> editorPage(path, normalized, note, Map.of("validation", admin.validate(draft).getEntity()));
        };
    }

    @GET
    @Path("/history/{id}")
    @SuppressWarnings("unchecked")
    public TemplateInstance changeView(@PathParam("id") long id) {
        Map<String, Object> c = ownChange(id);
        List<Map<String, String>> diff = ((String) c.get("diff")).lines()
                .map(l -> Map.of("text", l, "css", l.startsWith("+") && !l.startsWith("+++") ? "add"
                        : l.startsWith("-") && !l.startsWith("---") ? "del" : ""))
                .toList();
        return pages.page(change, "policies", "Policy change #" + id).data("c", c).data("diff", diff);
    }

    @POST
    @Path("/history/{id}/rollback")
    public Response rollback(@PathParam("id") long id) {
        ownChange(id);
        admin.rollback(id);
        return Response.seeOther(URI.create("/console/policies?rolledBack=" + id)).build();
    }

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        if (e.error().status() == 422 && e.error().details().get("errors") != null) {
            // A draft OPA refused on activation: shown like a validation on the history page.
            return pages.refusal(e, uri);
        }
        return pages.refusal(e, uri);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> ownChange(long id) {
        Map<String, Object> c = (Map<String, Object>) admin.change(id).getEntity();
        if (!caller.principal().tenant().equals(c.get("author_tenant"))) {
            throw new GatewayException(GatewayError.notFound("No policy change #" + id + "."));
        }
        return c;
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> history(String revision) {
        String tenant = caller.principal().tenant();
        return ((List<Map<String, Object>>) admin.history(200).getEntity()).stream()
                .filter(c -> tenant.equals(c.get("author_tenant")))
                .filter(c -> revision == null || revision.equals(c.get("revision")) || revision.equals(c.get("previous_revision")))
                .limit(50).toList();
    }

    @SuppressWarnings("unchecked")
    private TemplateInstance editorPage(String path, String content, String message, Map<String, Object> result) {
        Map<Integer, String> errors = new HashMap<>();
        Object validation = result == null ? null : result.get("validation");
        if (validation instanceof PolicyAdministration.Validation v) {
            for (OpaCli.CompileError e : v.errors()) {
                if (e.file() == null || e.file().endsWith(path)) {
                    errors.merge(e.row(), e.message(), (a, b) -> a + "; " + b);
                }
            }
        }
        return pages.page(editor, "policies", "Edit " + path).data("path", path).data("content", content)
                .data("message", message).data("lines", RegoHighlight.lines(content, errors))
                .data("validation", validation)
                .data("tests", result == null ? null : result.get("tests"))
                .data("whatIf", result == null ? null : result.get("whatIf"))
                .data("problem", result == null ? null : result.get("problem"))
                .data("tenant", caller.principal().tenant());
    }
}
