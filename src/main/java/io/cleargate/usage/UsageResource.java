package io.cleargate.usage;

import io.cleargate.identity.AdminEvents;
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
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Token usage and cost of a tenant, read from the aggregate (never by scanning the trail).
 *
 * <pre>
 * GET  /admin/usage[?month=2026-11][&amp;tenant=T]   the month's totals, by key, by model, and every row
 * POST /admin/usage/rebuild[?tenant=T]             recompute the tenant's aggregate from its audit trail
 * </pre>
 * A tenant's gateway-admin reads and rebuilds its own tenant; the auditor reads any tenant (every
 * tenant when it names none); the platform-admin rebuilds any tenant.
 */
@Path("/admin/usage")
@Produces(MediaType.APPLICATION_JSON)
public class UsageResource {

    @Inject
    Caller caller;

    @Inject
    UsageLedger ledger;

    @Inject
    AdminEvents events;

    @GET
    @Authorize(anyOf = {Roles.GATEWAY_ADMIN, Roles.AUDITOR})
    public Map<String, Object> usage(@QueryParam("month") String month, @QueryParam("tenant") String tenant) {
        String scope = caller.tenantScope(tenant);
        YearMonth period = month(month);
        List<UsageMonth> rows = ledger.rows(scope, period);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("object", "usage");
        out.put("tenant", scope);
        out.put("month", period.toString());
        out.put("total", totals(rows));
        if (scope == null) {
            out.put("by_tenant", grouped(rows, "tenant", r -> r.id.tenant));
        }
        out.put("by_key", grouped(rows, "key", r -> r.id.subject));
        out.put("by_model", grouped(rows, "model", r -> r.id.model));
        out.put("data", rows.stream().map(r -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tenant", r.id.tenant);
            m.put("key", r.id.subject);
            m.put("model", r.id.model);
            m.putAll(totals(List.of(r)));
            return m;
        }).toList());
        return out;
    }

    @POST
    @Path("/rebuild")
    @Authorize(anyOf = {Roles.GATEWAY_ADMIN, Roles.PLATFORM_ADMIN})
    public Map<String, Object> rebuild(@QueryParam("tenant") String tenant) {
        String scope = caller.tenantScope(tenant);
        if (scope == null) {
            throw new GatewayException(GatewayError.invalidRequest("tenant", "Name the tenant to rebuild."));
        }
        long counted = ledger.rebuild(scope);
        events.record(scope, caller.principal().subject(), "usage_rebuilt", Map.of("records", counted));
        return Map.of("object", "usage_rebuild", "tenant", scope, "records", counted);
    }

    private static YearMonth month(String month) {
        if (month == null || month.isBlank()) {
            return YearMonth.from(Instant.now().atZone(ZoneOffset.UTC));
        }
        try {
            return YearMonth.parse(month.length() > 7 ? "" : month);
        } catch (DateTimeParseException e) {
            throw new GatewayException(GatewayError.invalidRequest("month", "month is a UTC month such as 2026-11."));
        }
    }

    private static List<Map<String, Object>> grouped(List<UsageMonth> rows, String name,
            Function<UsageMonth, String> key) {
        Map<String, List<UsageMonth>> groups = new TreeMap<>();
        rows.forEach(r -> groups.computeIfAbsent(key.apply(r), k -> new ArrayList<>()).add(r));
        List<Map<String, Object>> out = new ArrayList<>();
        groups.forEach((k, group) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(name, k);
            m.putAll(totals(group));
            out.add(m);
        });
        return out;
    }

    /** Sums of rows; cost in the policy's currency, exact to the billionth. */
    private static Map<String, Object> totals(List<UsageMonth> rows) {
        long requests = 0;
        long estimated = 0;
        long prompt = 0;
        long completion = 0;
        long nanos = 0;
        String currency = null;
        for (UsageMonth r : rows) {
            requests += r.requests;
            estimated += r.estimatedRequests;
            prompt += r.promptTokens;
            completion += r.completionTokens;
            nanos += r.costNanos;
            currency = r.currency != null ? r.currency : currency;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", requests);
        m.put("estimated_requests", estimated);
        m.put("prompt_tokens", prompt);
        m.put("completion_tokens", completion);
        m.put("total_tokens", prompt + completion);
        m.put("cost", BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString());
        m.put("currency", currency);
        return m;
    }
}
