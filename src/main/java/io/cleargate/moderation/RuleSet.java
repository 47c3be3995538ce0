package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Action;
import io.cleargate.moderation.Verdict.Direction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A profile with the policy's overrides applied: the rules that are in force for one request.
 * Overrides map a rule id (both directions) or "id:input" / "id:output" to block, redact, flag or
 * off; an override naming an unknown rule or action is ignored (it can only ever have weakened
 * the profile by mistake).
 */
final class RuleSet {

    /**
     * Everything one scan found: findings above threshold and the raw matches (for hold-back);
     * a detector may leave out raw matches it can show would score below the rule's threshold.
     */
    record Scan(List<Finding> findings, List<Match> raw) {}

    private final String profile;
    private final List<Rule> rules;

    RuleSet(Profile profile, Map<String, String> overrides) {
        this.profile = profile.name();
        if (overrides.isEmpty()) {
            // Most tenants override nothing: the profile's own (immutable) rules, with no lookups per request.
            this.rules = List.copyOf(profile.rules());
            return;
        }
        List<Rule> effective = new ArrayList<>();
        for (Rule rule : profile.rules()) {
            Rule r = rule;
            r = override(r, overrides.get(rule.id()), Direction.INPUT);
            r = override(r, overrides.get(rule.id()), Direction.OUTPUT);
            r = override(r, overrides.get(rule.id() + ":input"), Direction.INPUT);
            r = override(r, overrides.get(rule.id() + ":output"), Direction.OUTPUT);
            effective.add(r);
        }
        this.rules = List.copyOf(effective);
    }

    private static Rule override(Rule rule, String value, Direction direction) {
        if (value == null) {
            return rule;
        }
        List<String> problems = new ArrayList<>();
        Action action = ProfileParser.action("override", value.toLowerCase(Locale.ROOT), problems);
        return problems.isEmpty() ? rule.withAction(direction, action) : rule;
    }

    /**
     * Why an override cannot apply to {@code profile}, or null when it can. Checked when a policy
     * draft is validated and activated, so the silent ignore below never meets a live mistake.
     */
    static String overrideProblem(Profile profile, String key, String action) {
        String id = key;
        int colon = key.lastIndexOf(':');
        if (colon >= 0) {
            String direction = key.substring(colon + 1);
            if (!direction.equals("input") && !direction.equals("output")) {
                return "'" + direction + "' is not a direction (use id, id:input or id:output)";
            }
            id = key.substring(0, colon);
        }
        String ruleId = id;
        if (profile.rules().stream().noneMatch(r -> r.id().equals(ruleId))) {
            String folded = ruleId.replaceAll("[._]", "-");
            String hint = profile.rules().stream().map(Rule::id).filter(r -> r.replaceAll("[._]", "-").equals(folded))
                    .findFirst().map(r -> "; did you mean '" + r + "'?").orElse("");
            return "profile '" + profile.name() + "' has no rule '" + ruleId + "'" + hint;
        }
        List<String> problems = new ArrayList<>();
        ProfileParser.action("action", action == null ? "" : action, problems);
        return problems.isEmpty() ? null
                : "unknown action '" + action + "' (expected block, redact, flag or off)";
    }

    String profile() {
        return profile;
    }

    List<Rule> rules() {
        return rules;
    }

    /**
     * The first original offset at or after {@code from} that output must hold back: where a
     * match of some active output rule could still start, grow or change as the text goes on.
     */
    int holdFrom(NormalizedText text, int from) {
        int hold = text.original.length();
        for (Rule rule : rules) {
            if (rule.output() != null && hold > from) {
                hold = Math.min(hold, rule.detector().holdFrom(text, from));
            }
        }
        return Math.max(from, hold);
    }

    Scan scan(NormalizedText text, Direction direction) {
        Collected collected = new Collected();
        for (Rule rule : rules) {
            Action action = rule.action(direction);
            if (action == null) {
                continue;
            }
            collected.rule = rule;
            collected.action = action;
            rule.detector().scan(text, rule.threshold(), collected);
        }
        return new Scan(merge(collected.findings), collected.raw);
    }

    /**
     * What one scan's detectors report, for the rule whose detector is running: one sink for the
     * whole scan. A lambda per rule (thirteen in the default profile) was most of what a short
     * text's scan allocated outside the detectors. A detector reports only while its scan runs.
     */
    private static final class Collected implements java.util.function.Consumer<Match> {
        final List<Finding> findings = new ArrayList<>();
        final List<Match> raw = new ArrayList<>();
        Rule rule;
        Action action;

        @Override
        public void accept(Match match) {
            raw.add(match);
            if (match.score() >= rule.threshold()) {
                findings.add(new Finding(rule, action, match));
            }
        }
    }

    /** Overlapping findings of one rule (the same value seen in two views) become one, with the best score. */
    private static List<Finding> merge(List<Finding> findings) {
        findings.sort(Comparator.comparing((Finding f) -> f.rule().id()).thenComparingInt(Finding::start));
        List<Finding> merged = new ArrayList<>();
        for (Finding f : findings) {
            if (!merged.isEmpty()) {
                Finding last = merged.getLast();
                if (last.rule() == f.rule() && f.start() < last.end()) {
                    Match a = last.match();
                    Match b = f.match();
                    Match best = a.score() >= b.score() ? a : b;
                    merged.set(merged.size() - 1, new Finding(f.rule(), f.action(), new Match(a.start(),
                            Math.max(a.end(), b.end()), best.score(), best.view(), best.pattern(), best.value())));
                    continue;
                }
            }
            merged.add(f);
        }
        merged.sort(Comparator.comparingInt(Finding::start).thenComparingInt(f -> -f.end()));
        return merged;
    }
}
