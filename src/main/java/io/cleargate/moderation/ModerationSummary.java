package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The transparency summary every moderated response carries: which rules acted, how and where,
 * never the matched text itself.
 */
final class ModerationSummary {

    static final String HEADER = "x-cleargate-moderation";
    static final String EXTENSION = "cleargate_moderation";
    private static final int HEADER_MAX_VERDICTS = 20;

    private ModerationSummary() {}

    /** e.g. {@code profile=default, rule=email;category=pii.email;action=redact;direction=input;span=12-30} */
    static String header(String profile, List<Verdict> verdicts) {
        var sb = new StringBuilder("profile=").append(profile);
        int shown = 0;
        for (Verdict v : verdicts) {
            if (shown == HEADER_MAX_VERDICTS) {
                sb.append(", more=").append(verdicts.size() - shown);
                break;
            }
            sb.append(", rule=").append(v.ruleId()).append(";category=").append(v.category())
                    .append(";action=").append(lower(v.action())).append(";direction=").append(lower(v.direction()))
                    .append(";span=").append(v.start()).append('-').append(v.end());
            if (v.field() != null) {
                sb.append(";field=").append(v.field());
            }
            shown++;
        }
        return sb.toString();
    }

    static List<Map<String, Object>> verdicts(List<Verdict> verdicts) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Verdict v : verdicts) {
            var m = new LinkedHashMap<String, Object>();
            m.put("rule", v.ruleId());
            m.put("category", v.category());
            m.put("action", lower(v.action()));
            m.put("direction", lower(v.direction()));
            m.put("start", v.start());
            m.put("end", v.end());
            m.put("score", Math.round(v.score() * 100) / 100.0);
            if (v.field() != null) {
                m.put("field", v.field());
            }
            out.add(m);
        }
        return out;
    }

    static Map<String, Object> extension(String profile, List<Verdict> verdicts, Finding blocked) {
        return extension(profile, verdicts, blocked, null);
    }

    /** @param blockedField where the blocking match lies (for example tool_calls[0].arguments); null for the text */
    static Map<String, Object> extension(String profile, List<Verdict> verdicts, Finding blocked, String blockedField) {
        var m = new LinkedHashMap<String, Object>();
        m.put("profile", profile);
        m.put("verdicts", verdicts(verdicts));
        if (blocked != null) {
            m.put("blocked", true);
            m.put("message", "The response was stopped by the content filter: rule " + blocked.rule().id() + " ("
                    + blocked.rule().category() + ") matched " + (blockedField == null ? "the output" : blockedField)
                    + " at offset " + blocked.start() + ".");
        }
        return m;
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
