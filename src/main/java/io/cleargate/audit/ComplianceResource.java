package io.cleargate.audit;

import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.Authorize;
import io.cleargate.identity.Caller;
import io.cleargate.identity.Principal;
import io.cleargate.identity.Roles;
import io.cleargate.pipeline.GatewayError;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The compliance API. Compliance officers see their own tenant only; auditors see every tenant.
 * Every content view, export, erasure and hold change is itself recorded, and refused if it
 * cannot be. Errors use OpenAI's shape.
 */
@Path("/audit")
@Produces(MediaType.APPLICATION_JSON)
@Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.AUDITOR})
public class ComplianceResource {

    private static final int MAX_PAGE = 500;
    /** A content view's stated reason is kept, bounded, in its audit record. */
    static final int MAX_REASON = 500;
    private static final java.time.Duration UNFINISHED_AFTER = java.time.Duration.ofMinutes(15);

    @Inject EntityManager em;
    @Inject Caller caller;
    @Inject Keyring keyring;
    @Inject AdminEvents events;
    @Inject ChainVerifier verifier;
    @Inject CheckpointSigner signer;
    @Inject Retention retention;
    @Inject LookupRation lookups;
    /** Every acknowledged record is in the database before a query reads it (see {@link AuditWriter#awaitStored()}). */
    @Inject AuditWriter writer;

    public record HmacRequest(String tenant, String value) {}

    public record ErasureRequest(String tenant, String subject) {}

    public record HoldRequest(String reason) {}

    @GET
    @Path("/records")
    public Map<String, Object> search(@QueryParam("tenant") String tenant, @QueryParam("from") String from, @QueryParam("to") String to,
            @QueryParam("subject") String subject, @QueryParam("model") String model,
            @QueryParam("region") String region, @QueryParam("decision") String decision,
            @QueryParam("category") String category, @QueryParam("action") String action,
            @QueryParam("status") String status, @QueryParam("kind") String kind,
            @QueryParam("request_id") String requestId, @QueryParam("after") Long after, @QueryParam("limit") Integer limit,
            @QueryParam("person") String person) {
        String scope = caller.tenantScope(tenant);
        int size = Math.clamp(limit == null ? 100 : limit, 1, MAX_PAGE);
        if (person != null && person.length() > Principal.MAX_NAME) {
            throw error(GatewayError.invalidRequest("person", "person is at most " + Principal.MAX_NAME + " characters."));
        }
        var query = new AuditQuery(scope, time(from, "from"), time(to, "to"), subject, model, region, decision,
                category, action, status, kind, requestId, after, size + 1, person);
        writer.awaitStored();
        List<AuditEntry> rows = QuarkusTransaction.requiringNew().call(() -> query.build(em).getResultList());
        boolean more = rows.size() > size;
        List<Map<String, Object>> items = rows.stream().limit(size).map(ComplianceResource::summary).toList();
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("items", items);
        page.put("next", more ? String.valueOf(rows.get(size - 1).id) : null);
        return page;
    }

    @GET
    @Path("/records/{id}")
    public Map<String, Object> detail(@PathParam("id") long id, @QueryParam("content") @DefaultValue("true") boolean withContent,
            @QueryParam("reason") String reason) {
        Principal principal = caller.principal();
        writer.awaitStored();
        AuditEntry entry = QuarkusTransaction.requiringNew().call(() -> em.find(AuditEntry.class, id));
        if (entry == null || !caller.mayActOn(entry.tenant)) {
            throw error(GatewayError.notFound("No audit record " + id + "."));
        }
        List<AuditEntry> related = entry.requestId == null ? List.of(entry) : QuarkusTransaction.requiringNew().call(() ->
                em.createQuery("select e from AuditEntry e where e.requestId = :r and e.chainId = :c order by e.seq",
                        AuditEntry.class).setParameter("r", entry.requestId).setParameter("c", entry.chainId).getResultList());
        if (withContent && related.stream().anyMatch(e -> e.content != null)) {
            // Viewing content is itself evidence; no view without its record.
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("entry_id", id);
            details.put("request_id", String.valueOf(entry.requestId));
            if (reason != null && !reason.isBlank()) {
                details.put("reason", reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) : reason);
            }
            recordOrRefuse(entry.tenant, principal, "content_view", details);
        }
        List<Map<String, Object>> entries = new ArrayList<>();
        for (AuditEntry e : related) {
            Map<String, Object> m = summary(e);
            m.put("body", e.body == null ? null : Canonical.parse(e.body));
            m.put("content", withContent ? content(e) : null);
            entries.add(m);
        }
        Map<String, Object> result = summary(entry);
        result.put("entries", entries);
        return result;
    }

    @GET
    @Path("/export")
    @Produces({"application/x-ndjson", "text/csv"})
    public Response export(@QueryParam("format") String format,
            @QueryParam("tenant") String tenant, @QueryParam("from") String from, @QueryParam("to") String to) {
        Principal principal = caller.principal();
        writer.awaitStored();
        String scope = caller.tenantScope(tenant);
        Instant fromTime = time(from, "from");
        Instant toTime = time(to, "to");
        boolean csv = "csv".equals(format);
        Map<String, Object> filter = new LinkedHashMap<>();
        filter.put("tenant", scope);
        filter.put("from", from);
        filter.put("to", to);
        filter.put("format", csv ? "csv" : "jsonl");
        recordOrRefuse(scope, principal, "export", filter);
        List<String> chains = scope != null ? List.of(scope) : verifier.chains();
        StreamingOutput body = out -> {
            var w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
            new Exporter(em, signer, w, csv).write(chains, filter, fromTime, toTime);
            w.flush();
        };
        return Response.ok(body, csv ? "text/csv" : "application/x-ndjson")
                .header("Content-Disposition", "attachment; filename=\"audit-export." + (csv ? "csv" : "jsonl") + "\"")
                .build();
    }

    @GET
    @Path("/summary")
    public Map<String, Object> summaryReport(@QueryParam("tenant") String tenant, @QueryParam("from") String from, @QueryParam("to") String to,
            @QueryParam("bucket") String bucket) {
        writer.awaitStored();
        String scope = caller.tenantScope(tenant);
        ChronoUnit unit = "hour".equals(bucket) ? ChronoUnit.HOURS : ChronoUnit.DAYS;
        Map<String, Map<String, Object>> rows = new TreeMap<>();
        Long after = null;
        while (true) {
            var query = new AuditQuery(scope, time(from, "from"), time(to, "to"), null, null, null, null, null, null,
                    null, null, null, after, 2000);
            List<AuditEntry> page = QuarkusTransaction.requiringNew().call(() -> query.build(em).getResultList());
            if (page.isEmpty()) {
                break;
            }
            for (AuditEntry e : page) {
                if ("admin".equals(e.kind)) {
                    continue;
                }
                String key = e.recordedAt.truncatedTo(unit) + "|" + e.tenant;
                Map<String, Object> row = rows.computeIfAbsent(key, k -> newSummaryRow(e, unit));
                row.merge("requests", 1, (a, b) -> (Integer) a + (Integer) b);
                tally(row, e.tags);
            }
            after = page.getLast().id;
        }
        return Map.of("bucket", unit == ChronoUnit.HOURS ? "hour" : "day", "rows", List.copyOf(rows.values()));
    }

    @POST
    @Path("/hmac")
    @Consumes(MediaType.APPLICATION_JSON)
    public Map<String, Object> hmac(HmacRequest request) {
        if (request == null || request.value() == null) {
            throw error(GatewayError.invalidRequest("value", "value is required."));
        }
        String scope = caller.tenantScope(request.tenant());
        if (scope == null) {
            throw error(GatewayError.invalidRequest("tenant", "tenant is required."));
        }
        // An HMAC look-up confirms a guess against hash-only content: rationed per caller, and
        // recorded (never the value) before it is answered.
        Principal principal = caller.principal();
        long wait = lookups.take(principal.tenant() + "/" + principal.subject());
        if (wait > 0) {
            throw error(GatewayError.rateLimited("Too many HMAC look-ups; retry after " + wait + " s.", wait)
                    .withDetail("limit", "hmac_lookups_per_minute"));
        }
        recordOrRefuse(scope, principal, "hmac_lookup", Map.of());
        return Map.of("tenant", scope, "hmac", keyring.hmac(scope, request.value()));
    }

    @GET
    @Path("/verify")
    public Map<String, Object> verify(@QueryParam("tenant") String tenant) {
        String scope = caller.tenantScope(tenant);
        List<String> chains = scope != null ? List.of(scope) : verifier.chains();
        List<ChainVerifier.Result> results = chains.stream().map(verifier::verify).toList();
        return Map.of("ok", results.stream().allMatch(ChainVerifier.Result::ok), "chains", results);
    }

    /**
     * The latest signed checkpoints of each chain in scope (newest first, at most {@code limit} per
     * chain), each with whether its signature verifies under this gateway's key: the heads an auditor
     * copies out and later verifies an export against.
     */
    @GET
    @Path("/checkpoints")
    public Map<String, Object> checkpoints(@QueryParam("tenant") String tenant, @QueryParam("limit") Integer limit) {
        String scope = caller.tenantScope(tenant);
        int size = Math.clamp(limit == null ? 10 : limit, 1, 100);
        List<String> chains = scope != null ? List.of(scope) : verifier.chains();
        List<Map<String, Object>> out = new ArrayList<>();
        for (String chain : chains) {
            List<Checkpoint> latest = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                    "select c from Checkpoint c where c.chainId = :c order by c.chainId desc, c.seq desc, c.id desc",
                    Checkpoint.class)
                    .setParameter("c", chain).setMaxResults(size).getResultList());
            for (Checkpoint c : latest) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", "checkpoint");
                m.put("chain", c.chainId);
                m.put("seq", c.seq);
                m.put("head_hash", c.headHash);
                m.put("signed_at", c.signedAt);
                m.put("key_id", c.keyId);
                m.put("signature", c.signature);
                m.put("valid", signer.verify(c));
                out.add(m);
            }
        }
        return Map.of("key_id", signer.keyId(), "public_key", signer.publicKeyHex(), "checkpoints", out);
    }

    @POST
    @Path("/checkpoints")
    public Map<String, Object> checkpoint() {
        return Map.of("signed", signer.checkpointAll(), "key_id", signer.keyId(), "public_key", signer.publicKeyHex());
    }

    /**
     * Destroys content: the tenant's compliance officer, or a platform data-protection officer;
     * never the read-only auditor. 409 while the tenant is under legal hold.
     */
    @POST
    @Path("/erasure")
    @Consumes(MediaType.APPLICATION_JSON)
    @Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.DATA_PROTECTION_OFFICER})
    public Map<String, Object> erase(ErasureRequest request) {
        Principal principal = caller.principal();
        String scope = caller.tenantScope(request == null ? null : request.tenant());
        if (scope == null) {
            throw error(GatewayError.invalidRequest("tenant", "tenant is required."));
        }
        try {
            int keys = retention.erase(scope, request.subject(), principal.subject());
            return Map.of("tenant", scope, "keys_destroyed", keys);
        } catch (Retention.LegalHoldActive e) {
            throw error(new GatewayError(409, "invalid_request_error", "legal_hold", "tenant", e.getMessage(), null, null));
        } catch (AuditUnavailableException e) {
            throw error(AuditStage.unavailable());
        }
    }

    @PUT
    @Path("/legal-holds/{tenant}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.DATA_PROTECTION_OFFICER})
    public Map<String, Object> hold(@PathParam("tenant") String tenant,
            HoldRequest request) {
        Principal principal = caller.principal();
        String scope = caller.tenantScope(tenant);
        String reason = request == null || request.reason() == null ? "" : request.reason();
        recordOrRefuse(scope, principal, "legal_hold_set", Map.of("reason", reason));
        QuarkusTransaction.requiringNew().run(() -> {
            LegalHold hold = Optional.ofNullable(em.find(LegalHold.class, scope)).orElseGet(LegalHold::new);
            hold.tenant = scope;
            hold.reason = reason;
            hold.setBy = principal.subject();
            hold.setAt = Instant.now();
            em.merge(hold);
        });
        return Map.of("tenant", scope, "held", true);
    }

    @DELETE
    @Path("/legal-holds/{tenant}")
    @Authorize(anyOf = {Roles.COMPLIANCE_OFFICER, Roles.DATA_PROTECTION_OFFICER})
    public Map<String, Object> release(@PathParam("tenant") String tenant) {
        Principal principal = caller.principal();
        String scope = caller.tenantScope(tenant);
        recordOrRefuse(scope, principal, "legal_hold_released", Map.of());
        QuarkusTransaction.requiringNew().run(() ->
                em.createQuery("delete from LegalHold h where h.tenant = :t").setParameter("t", scope).executeUpdate());
        return Map.of("tenant", scope, "held", false);
    }

    // --- helpers

    private void recordOrRefuse(String tenant, Principal actor, String action, Map<String, Object> details) {
        try {
            Map<String, Object> d = new LinkedHashMap<>(details);
            d.put("actor_tenant", actor.tenant());
            events.record(tenant, actor.subject(), action, d);
        } catch (AuditUnavailableException e) {
            throw error(AuditStage.unavailable());
        }
    }

    private Object content(AuditEntry e) {
        if (e.body == null) {
            return null;
        }
        Map<String, Object> body = Canonical.parse(e.body);
        if (!(body.get("content") instanceof Map<?, ?> ref)) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("field", ref.get("field"));
        out.put("mode", ref.get("mode"));
        if (e.content == null) {
            out.put("purged", true);
            return out;
        }
        switch (String.valueOf(ref.get("mode"))) {
            case Recorder.ENCRYPTED -> {
                Optional<String> plain = keyring.open(((Number) ref.get("key_id")).longValue(), e.content,
                        Recorder.associated(e.requestId, String.valueOf(ref.get("field"))))
                        .map(bytes -> Recorder.DEFLATE.equals(ref.get("encoding")) ? inflated(bytes) : bytes)
                        .map(bytes -> new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
                out.put("erased", plain.isEmpty());
                out.put("text", plain.orElse(null));
            }
            case Recorder.HASH_ONLY -> out.put("hmac", e.content);
            default -> out.put("text", e.content);
        }
        return out;
    }

    /** Content deflated before encryption; it authenticated, so a failure here is a bug, not tampering. */
    private static byte[] inflated(byte[] packed) {
        try {
            return StoredBody.inflate(packed, null);
        } catch (java.util.zip.DataFormatException ex) {
            throw new IllegalStateException("encrypted content does not inflate", ex);
        }
    }

    static Map<String, Object> summary(AuditEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id);
        m.put("chain", e.chainId);
        m.put("seq", e.seq);
        m.put("kind", e.kind);
        m.put("request_id", e.requestId);
        m.put("recorded_at", e.recordedAt.toString());
        m.put("tenant", e.tenant);
        m.put("subject", e.subject);
        m.put("model", e.model);
        m.put("region", e.region);
        m.put("decision", e.decision);
        m.put("state", e.state);
        // A request record never finalised within the longest request time was cut off (crash).
        m.put("effective_state", "in_progress".equals(e.state)
                && e.recordedAt.isBefore(Instant.now().minus(UNFINISHED_AFTER)) ? "incomplete" : e.state);
        m.put("http_status", e.httpStatus);
        m.put("username", e.username);
        m.put("email", e.email);
        m.put("actions", actions(e.tags));
        m.put("entry_hash", e.entryHash);
        return m;
    }

    /** The moderation actions and policy denial reasons a record's tags name, for result rows. */
    static List<Map<String, String>> actions(String tags) {
        List<Map<String, String>> out = new ArrayList<>();
        if (tags == null) {
            return out;
        }
        for (String tag : tags.split("\\|")) {
            int colon = tag.lastIndexOf(':');
            if (colon > 0) {
                String left = tag.substring(0, colon);
                String right = tag.substring(colon + 1);
                out.add(switch (left) {
                    case "reason" -> Map.of("action", "deny", "category", right);
                    case "admin" -> Map.of("action", "admin", "category", right);
                    default -> Map.of("action", right, "category", left);
                });
            }
        }
        return out.stream().distinct().toList();
    }

    private static Map<String, Object> newSummaryRow(AuditEntry e, ChronoUnit unit) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("bucket", e.recordedAt.truncatedTo(unit).toString());
        row.put("tenant", e.tenant);
        row.put("requests", 0);
        row.put("blocked", new TreeMap<String, Integer>());
        row.put("redacted", new TreeMap<String, Integer>());
        row.put("flagged", new TreeMap<String, Integer>());
        row.put("denials", new TreeMap<String, Integer>());
        row.put("model_refusals", new TreeMap<String, Integer>());
        return row;
    }

    @SuppressWarnings("unchecked")
    private static void tally(Map<String, Object> row, String tags) {
        if (tags == null) {
            return;
        }
        for (String tag : tags.split("\\|")) {
            int colon = tag.lastIndexOf(':');
            if (colon <= 0) {
                continue;
            }
            String left = tag.substring(0, colon);
            String right = tag.substring(colon + 1);
            String column = switch (right) {
                case "block" -> "blocked";
                case "redact" -> "redacted";
                case "flag" -> "flagged";
                default -> null;
            };
            if ("reason".equals(left)) {
                ((Map<String, Integer>) row.get("denials")).merge(right, 1, Integer::sum);
            } else if (Recorder.MODEL_REFUSAL_TAG.equals(left)) {
                // The model's own refusals, by kind, beside the tenant filter's actions.
                ((Map<String, Integer>) row.get("model_refusals")).merge(right, 1, Integer::sum);
            } else if (column != null) {
                ((Map<String, Integer>) row.get(column)).merge(left, 1, Integer::sum);
            }
        }
    }

    private static Instant time(String value, String param) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw error(GatewayError.invalidRequest(param, param + " must be an ISO-8601 instant such as 2025-01-31T00:00:00Z."));
        }
    }

    /** Thrown; the shared GatewayException mapper writes it in OpenAI's shape. */
    static io.cleargate.pipeline.GatewayException error(GatewayError error) {
        return new io.cleargate.pipeline.GatewayException(error);
    }
}
