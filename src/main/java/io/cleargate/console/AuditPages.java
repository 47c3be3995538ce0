package io.cleargate.console;

import io.cleargate.audit.ComplianceResource;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Roles;
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
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The audit explorer and the record view. Everything is read through the compliance API's own
 * resource, in the same request, so the scope rules (own tenant for officers, every tenant for
 * auditors) and the recording of content views are the API's, not a copy.
 */
@Path("/console/audit")
@Produces(MediaType.TEXT_HTML)
@Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.AUDITOR}, browser = true)
public class AuditPages {

    static final int PAGE = 25;
    /** A content view must say why, in a few words at least. */
    static final int MIN_REASON = 5;

    @Inject ComplianceResource compliance;
    @Inject Evidence evidence;
    @Inject Caller caller;
    @Inject Pages pages;
    @Context UriInfo uri;

    @Inject
    @Location("console/audit.html")
    Template explorer;

    @Inject
    @Location("console/record.html")
    Template record;

    @GET
    public TemplateInstance explore(@QueryParam("person") String person, @QueryParam("preset") String preset,
            @QueryParam("from") String from, @QueryParam("to") String to, @QueryParam("action") String action,
            @QueryParam("category") String category, @QueryParam("model") String model,
            @QueryParam("region") String region, @QueryParam("outcome") String outcome,
            @QueryParam("tenant") String tenant, @QueryParam("after") Long after) {
        Search asked = new Search(person, preset, from, to, action, category, model, region, outcome, tenant, after);
        Search search = asked.resolved(Instant.now());
        Map<String, Object> page = compliance.search(search.tenant(), Search.iso(search.from(), "from"),
                Search.iso(search.to(), "to"), null, search.model(), search.region(), search.decision(),
                search.category(), search.moderationAction(), search.outcome(), null, null, search.after(), PAGE,
                search.person());
        Object next = page.get("next");
        return pages.page(explorer, "audit", "Audit explorer").data("s", asked).data("resolved", search)
                .data("presets", Search.PRESETS.entrySet()).data("items", page.get("items"))
                .data("nextQuery", next == null ? null : search.after(Long.valueOf(next.toString())).query())
                .data("firstQuery", search.after(null).query())
                .data("shareQuery", asked.after(null).query())
                .data("auditor", caller.principal().hasRole(Roles.AUDITOR))
                .data("actionOptions", List.of("block", "redact", "flag", "deny"))
                .data("outcomeOptions", List.of("complete", "incomplete", "refused", "200", "400", "401", "403", "429", "503"));
    }

    @GET
    @Path("/records/{id}")
    public TemplateInstance record(@PathParam("id") long id) {
        return recordPage(id, compliance.detail(id, false, null), null);
    }

    /** Shows the stored prompt and output; the compliance API records the view and its reason first. */
    @POST
    @Path("/records/{id}/content")
    public TemplateInstance content(@PathParam("id") long id, @FormParam("reason") String reason) {
        if (reason == null || reason.strip().length() < MIN_REASON) {
            return recordPage(id, compliance.detail(id, false, null), null)
                    .data("reasonProblem", "Say why you need to see the content (at least " + MIN_REASON + " characters).");
        }
        return recordPage(id, compliance.detail(id, true, reason.strip()), reason.strip());
    }

    /**
     * The search as an evidence bundle (zip): the export of the searched tenant's chain from the
     * search's start to now (with the signed checkpoints, signed just before), the matching records,
     * the offline verifier and a README. The export is itself recorded by the compliance API.
     */
    @GET
    @Path("/evidence")
    @Produces("application/zip")
    public Response evidence(@QueryParam("person") String person, @QueryParam("preset") String preset,
            @QueryParam("from") String from, @QueryParam("to") String to, @QueryParam("action") String action,
            @QueryParam("category") String category, @QueryParam("model") String model,
            @QueryParam("region") String region, @QueryParam("outcome") String outcome,
            @QueryParam("tenant") String tenant) {
        Search search = new Search(person, preset, from, to, action, category, model, region, outcome, tenant, null)
                .resolved(Instant.now());
        return Response.ok(evidence.bundle(search), "application/zip")
                .header("Content-Disposition", "attachment; filename=\"cleargate-evidence.zip\"").build();
    }

    @ServerExceptionMapper
    public Response refusal(GatewayException e) {
        return pages.refusal(e, uri);
    }

    @SuppressWarnings("unchecked")
    private TemplateInstance recordPage(long id, Map<String, Object> detail, String reason) {
        Trail trail = Trail.of((List<Map<String, Object>>) detail.get("entries"));
        String tenant = (String) detail.get("tenant");
        Map<String, Object> checkpoint = null;
        if (tenant != null) {
            var latest = (List<Map<String, Object>>) compliance.checkpoints(tenant, 1).get("checkpoints");
            checkpoint = latest.isEmpty() ? null : latest.getFirst();
        }
        long lastSeq = trail.entries().stream().mapToLong(e -> ((Number) e.get("seq")).longValue()).max().orElse(0);
        boolean covered = checkpoint != null && ((Number) checkpoint.get("seq")).longValue() >= lastSeq
                && Boolean.TRUE.equals(checkpoint.get("valid"));
        return pages.page(record, "audit", "Audit record " + id).data("id", id).data("d", detail).data("t", trail)
                .data("checkpoint", checkpoint).data("covered", covered).data("reason", reason)
                .data("reasonProblem", null);
    }

    /**
     * A request's records read as one decision trail, from the request (or refusal) record and the
     * final record.
     */
    public record Trail(List<Map<String, Object>> entries, Map<String, Object> first, Map<String, Object> last,
            List<Map<String, Object>> verdicts, List<Highlight.Segment> prompt, List<Highlight.Segment> output,
            Map<String, Object> promptContent, Map<String, Object> outputContent) {

        @SuppressWarnings("unchecked")
        static Trail of(List<Map<String, Object>> entries) {
            Map<String, Object> first = body(entries.getFirst());
            Map<String, Object> last = body(entries.getLast());
            List<Map<String, Object>> verdicts = new ArrayList<>();
            for (Map<String, Object> e : entries) {
                if (body(e).get("verdicts") instanceof List<?> vs) {
                    for (Object v : vs) {
                        if (v instanceof Map<?, ?> m && !verdicts.contains(m)) {
                            verdicts.add((Map<String, Object>) m);
                        }
                    }
                }
            }
            Map<String, Object> promptContent = null;
            Map<String, Object> outputContent = null;
            for (Map<String, Object> e : entries) {
                if (e.get("content") instanceof Map<?, ?> c) {
                    if ("output".equals(c.get("field"))) {
                        outputContent = (Map<String, Object>) c;
                    } else {
                        promptContent = (Map<String, Object>) c;
                    }
                }
            }
            return new Trail(entries, first, last, verdicts,
                    Highlight.of(promptText(promptContent), spans(verdicts, "input")),
                    Highlight.of(text(outputContent), spans(verdicts, "output")), promptContent, outputContent);
        }

        private static Map<String, Object> body(Map<String, Object> entry) {
            @SuppressWarnings("unchecked")
            Map<String, Object> b = (Map<String, Object>) entry.get("body");
            return b == null ? Map.of() : b;
        }

        private static String text(Map<String, Object> content) {
            return content == null || !(content.get("text") instanceof String s) ? null : s;
        }

        /** The prompt as moderation saw it: the messages' contents joined with new lines. */
        private static String promptText(Map<String, Object> content) {
            String json = text(content);
            if (json == null) {
                return null;
            }
            try {
                List<String> parts = new ArrayList<>();
                for (Object m : new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, List.class)) {
                    if (m instanceof Map<?, ?> msg) {
                        parts.add(String.valueOf(msg.get("content")));
                    }
                }
                return String.join("\n", parts);
            } catch (java.io.IOException e) {
                return json;
            }
        }

        private static List<Highlight.Span> spans(List<Map<String, Object>> verdicts, String direction) {
            List<Highlight.Span> out = new ArrayList<>();
            for (Map<String, Object> v : verdicts) {
                if (direction.equals(v.get("direction")) && v.get("start") instanceof Number s
                        && v.get("end") instanceof Number e) {
                    out.add(new Highlight.Span(s.intValue(), e.intValue(), v.get("rule_id") + " (" + v.get("category")
                            + ", " + v.get("action") + ")"));
                }
            }
            return out;
        }

        public Map<String, Object> policy() {
            Object p = first.get("policy");
            return p instanceof Map<?, ?> ? cast(p) : null;
        }

        public Map<String, Object> route() {
            Object r = last.get("route") != null ? last.get("route") : first.get("route");
            return r instanceof Map<?, ?> ? cast(r) : null;
        }

        public Map<String, Object> outcome() {
            return last.get("outcome") instanceof Map<?, ?> o ? cast(o) : null;
        }

        public Map<String, Object> usage() {
            return last.get("usage") instanceof Map<?, ?> u ? cast(u) : null;
        }

        public Map<String, Object> latency() {
            if (!(last.get("latency_ms") instanceof Map<?, ?> l)) {
                return null;
            }
            // The trail writes -1 for "no first byte" (an answer sent whole, or none): shown as a dash.
            Map<String, Object> shown = new java.util.LinkedHashMap<>(cast(l));
            if (shown.get("ttft") instanceof Number n && n.longValue() < 0) {
                shown.remove("ttft");
            }
            return shown;
        }

        public boolean hasContent() {
            return entries.stream().anyMatch(e -> e.get("body") instanceof Map<?, ?> b && b.get("content") != null);
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> cast(Object o) {
            return new LinkedHashMap<>((Map<String, Object>) o);
        }
    }

    static GatewayException notFound(String message) {
        return new GatewayException(GatewayError.notFound(message));
    }
}
