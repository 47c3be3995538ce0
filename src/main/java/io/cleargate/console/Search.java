package io.cleargate.console;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * An audit explorer search as the browser states it in the URL, so a search can be shared by its
 * link. A time preset (last hour, day, week, month) is resolved against the moment of the first
 * page; the pager then carries the resolved absolute range, so the pages of one search stay the same.
 *
 * @param action block, redact or flag (moderation actions in the record's tags) or deny (policy)
 */
public record Search(String person, String preset, String from, String to, String action, String category,
        String model, String region, String outcome, String tenant, Long after) {

    public static final Map<String, String> PRESETS = presets();
    private static final int MAX_FIELD = 200;

    private static Map<String, String> presets() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("1h", "Last hour");
        m.put("24h", "Last 24 hours");
        m.put("7d", "Last 7 days");
        m.put("30d", "Last 30 days");
        m.put("all", "Any time");
        m.put("custom", "Custom range");
        return m;
    }

    public Search {
        person = clean(person);
        preset = clean(preset);
        from = clean(from);
        to = clean(to);
        action = clean(action);
        category = clean(category);
        model = clean(model);
        region = clean(region);
        outcome = clean(outcome);
        tenant = clean(tenant);
        if (preset == null) {
            preset = from == null && to == null ? "7d" : "custom";
        }
        if (!PRESETS.containsKey(preset)) {
            throw new GatewayException(GatewayError.invalidRequest("preset", "Unknown time preset '" + preset + "'."));
        }
        if (action != null && !java.util.Set.of("block", "redact", "flag", "deny").contains(action)) {
            throw new GatewayException(GatewayError.invalidRequest("action", "action is block, redact, flag or deny."));
        }
    }

    private static String clean(String s) {
        if (s == null || s.isBlank()) {
            return null;
        }
        String t = s.strip();
        if (t.length() > MAX_FIELD) {
            throw new GatewayException(GatewayError.invalidRequest(null, "A search field is longer than " + MAX_FIELD
                    + " characters."));
        }
        return t;
    }

    /** The search with its preset turned into an absolute range as of {@code now}. */
    public Search resolved(Instant now) {
        if ("custom".equals(preset) || "all".equals(preset)) {
            return this;
        }
        Duration back = switch (preset) {
            case "1h" -> Duration.ofHours(1);
            case "24h" -> Duration.ofHours(24);
            case "30d" -> Duration.ofDays(30);
            default -> Duration.ofDays(7);
        };
        Instant end = now.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        return new Search(person, "custom", minute(end.minus(back)), minute(end), action, category, model, region,
                outcome, tenant, after);
    }

    /** The next page of the same search. */
    public Search after(Long id) {
        return new Search(person, preset, from, to, action, category, model, region, outcome, tenant, id);
    }

    public Instant fromInstant() {
        return instant(from, "from");
    }

    public Instant toInstant() {
        return instant(to, "to");
    }

    /** The ISO instant of the compliance API for a field's value (UTC; a datetime-local input or an instant). */
    static Instant instant(String value, String field) {
        if (value == null) {
            return null;
        }
        try {
            return value.endsWith("Z") ? Instant.parse(value) : LocalDateTime.parse(value).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new GatewayException(GatewayError.invalidRequest(field, field
                    + " must be a date and time such as 2026-01-31T09:00 (UTC)."));
        }
    }

    static String iso(String value, String field) {
        Instant i = instant(value, field);
        return i == null ? null : i.toString();
    }

    private static String minute(Instant i) {
        return LocalDateTime.ofInstant(i, ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** The compliance API's decision filter: "deny" is the policy's, the other actions are moderation tags. */
    public String decision() {
        return "deny".equals(action) ? "deny" : null;
    }

    public String moderationAction() {
        return action == null || "deny".equals(action) ? null : action;
    }

    /** This search as URL query parameters (without the pager's cursor unless set). */
    public String query() {
        StringJoiner q = new StringJoiner("&");
        add(q, "person", person);
        add(q, "preset", preset);
        add(q, "from", from);
        add(q, "to", to);
        add(q, "action", action);
        add(q, "category", category);
        add(q, "model", model);
        add(q, "region", region);
        add(q, "outcome", outcome);
        add(q, "tenant", tenant);
        add(q, "after", after == null ? null : after.toString());
        return q.toString();
    }

    private static void add(StringJoiner q, String name, String value) {
        if (value != null) {
            q.add(name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }
}
