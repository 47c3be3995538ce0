package io.cleargate.moderation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.moderation.Verdict.Direction;
import io.cleargate.policy.DraftReview;
import io.cleargate.policy.OpaCli.CompileError;
import io.cleargate.policy.OpaCli.TestFailure;
import io.cleargate.policy.PolicyDecision;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Moderation profiles in the policy administration flow. The profiles are a document of the policy
 * tree ({@value #PROFILES}), so validation, tests, what-if, activation, history, rollback and audit
 * events are those of every policy change; this class adds what only moderation knows:
 * <ul>
 *   <li>problems: the profiles must parse (unknown fields, detectors and actions, regexes RE2
 *       refuses, ...), every profile a tenant's decision selects must exist, and every override must
 *       name a rule of that profile ({@code id}, {@code id:input} or {@code id:output}) and a known
 *       action, each located in its file;</li>
 *   <li>fixtures ({@value #FIXTURES}): explain-mode samples with the verdicts they must produce;</li>
 *   <li>what-if: the rules whose action changes for a tenant;</li>
 *   <li>activation: the new profiles are loaded at once.</li>
 * </ul>
 */
@ApplicationScoped
public class ModerationDraftReview implements DraftReview {

    static final String PROFILES = "cleargate/moderation/profiles/data.json";
    static final String FIXTURES = "cleargate/moderation/fixtures/data.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModerationService moderation;

    @Inject
    public ModerationDraftReview(ModerationService moderation) {
        this.moderation = moderation;
    }

    @Override
    public List<CompileError> problems(Map<String, String> tree, Map<String, PolicyDecision> decisions) {
        List<CompileError> problems = new ArrayList<>();
        Map<String, Profile> profiles = profiles(tree, problems);
        if (profiles == null) {
            return problems;
        }
        decisions.forEach((tenant, decision) -> {
            PolicyDecision.ModerationSettings settings = decision.moderation();
            String name = settings == null ? ModerationService.DEFAULT_PROFILE : settings.profile();
            Profile profile = profiles.get(name);
            if (profile == null) {
                problems.add(located(tree, tenant, "moderation.profile", "unknown_moderation_profile",
                        "tenant " + tenant + ": moderation profile '" + name + "' does not exist (profiles: "
                                + new TreeSet<>(profiles.keySet()) + ")"));
                return;
            }
            if (settings == null) {
                return;
            }
            settings.overrides().forEach((key, action) -> {
                String problem = RuleSet.overrideProblem(profile, key, action);
                if (problem != null) {
                    problems.add(located(tree, tenant, "moderation.overrides." + key, "invalid_moderation_override",
                            "tenant " + tenant + ": moderation override '" + key + "': " + problem));
                }
            });
        });
        return problems;
    }

    @Override
    public Fixtures test(Map<String, String> tree, Map<String, PolicyDecision> decisions) {
        String text = tree.get(FIXTURES);
        if (text == null) {
            return new Fixtures(0, List.of());
        }
        List<TestFailure> failures = new ArrayList<>();
        Map<String, Profile> profiles = profiles(tree, new ArrayList<>());
        JsonLocations locations = JsonLocations.of(text);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            return new Fixtures(1, List.of(new TestFailure(FIXTURES, 0, "moderation", "fixtures", "not valid JSON")));
        }
        if (root == null || !root.isObject()) {
            return new Fixtures(1, List.of(new TestFailure(FIXTURES, 0, "moderation", "fixtures",
                    "fixtures must be an object of name -> fixture")));
        }
        int total = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var entry = it.next();
            total++;
            String failure = profiles == null ? "the moderation profiles are invalid"
                    : runFixture(entry.getValue(), profiles, decisions);
            if (failure != null) {
                var loc = locations.find(entry.getKey());
                failures.add(new TestFailure(FIXTURES, loc == null ? 0 : loc.line(), "moderation", entry.getKey(),
                        failure));
            }
        }
        return new Fixtures(total, failures);
    }

    /**
     * One fixture: {@code {"tenant": "acme-eu"}} (the settings the tenant's decision selects) or
     * {@code {"profile": "strict", "overrides": {...}}}, {@code "direction"} input or output,
     * {@code "text"}, and {@code "expect": {"blocked": bool, "rules": [ids], "actions": {id: action},
     * "result": text}} (each member optional). Returns why it failed, or null.
     */
    private static String runFixture(JsonNode f, Map<String, Profile> profiles, Map<String, PolicyDecision> decisions) {
        PolicyDecision.ModerationSettings settings;
        if (f.hasNonNull("tenant")) {
            PolicyDecision d = decisions.get(f.get("tenant").asText());
            if (d == null) {
                return "tenant '" + f.get("tenant").asText() + "' is unknown or its requests are denied";
            }
            settings = d.moderation();
        } else {
            Map<String, String> overrides = new LinkedHashMap<>();
            f.path("overrides").fields().forEachRemaining(e -> overrides.put(e.getKey(), e.getValue().asText()));
            settings = new PolicyDecision.ModerationSettings(f.path("profile").asText(ModerationService.DEFAULT_PROFILE),
                    overrides);
        }
        String name = settings == null ? ModerationService.DEFAULT_PROFILE : settings.profile();
        Profile profile = profiles.get(name);
        if (profile == null) {
            return "profile '" + name + "' does not exist";
        }
        if (!f.hasNonNull("text")) {
            return "text is required";
        }
        Direction direction = "output".equals(f.path("direction").asText("input")) ? Direction.OUTPUT : Direction.INPUT;
        Map<String, Object> got = Explanation.of(new RuleSet(profile, settings == null ? Map.of() : settings.overrides()),
                f.get("text").asText(), direction);
        JsonNode expect = f.path("expect");
        List<String> wrong = new ArrayList<>();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> verdicts = (List<Map<String, Object>>) got.get("verdicts");
        if (expect.has("blocked") && expect.get("blocked").asBoolean() != (Boolean) got.get("blocked")) {
            wrong.add("blocked is " + got.get("blocked") + ", expected " + expect.get("blocked").asBoolean());
        }
        if (expect.has("rules")) {
            var want = new TreeSet<String>();
            expect.get("rules").forEach(r -> want.add(r.asText()));
            var have = new TreeSet<String>();
            verdicts.forEach(v -> have.add(String.valueOf(v.get("rule"))));
            if (!want.equals(have)) {
                wrong.add("rules hit " + have + ", expected " + want);
            }
        }
        expect.path("actions").fields().forEachRemaining(e -> {
            var actions = new TreeSet<String>();
            verdicts.stream().filter(v -> e.getKey().equals(v.get("rule"))).forEach(v -> actions.add(String.valueOf(v.get("action"))));
            if (!actions.equals(new TreeSet<>(List.of(e.getValue().asText())))) {
                wrong.add("rule " + e.getKey() + " took " + actions + ", expected " + e.getValue().asText());
            }
        });
        if (expect.has("result") && !Objects.equals(expect.get("result").asText(), got.get("result"))) {
            wrong.add("result is " + (got.get("result") == null ? "none (blocked)" : "'" + got.get("result") + "'")
                    + ", expected '" + expect.get("result").asText() + "'");
        }
        return wrong.isEmpty() ? null : String.join("; ", wrong);
    }

    @Override
    public Map<String, Object> whatIf(Map<String, String> before, PolicyDecision beforeDecision, Map<String, String> after,
            PolicyDecision afterDecision) {
        Map<String, Profile> was = profiles(before, new ArrayList<>());
        Map<String, Profile> will = profiles(after, new ArrayList<>());
        RuleSet from = ruleSet(was, beforeDecision);
        RuleSet to = ruleSet(will, afterDecision);
        if (from == null && to == null) {
            return Map.of();
        }
        List<Map<String, Object>> changed = new ArrayList<>();
        Map<String, Rule> old = new LinkedHashMap<>();
        if (from != null) {
            from.rules().forEach(r -> old.put(r.id(), r));
        }
        Map<String, Rule> now = new LinkedHashMap<>();
        if (to != null) {
            to.rules().forEach(r -> now.put(r.id(), r));
        }
        var ids = new TreeSet<String>(old.keySet());
        ids.addAll(now.keySet());
        for (String id : ids) {
            Rule a = old.get(id);
            Rule b = now.get(id);
            for (Direction d : Direction.values()) {
                String x = a == null ? "absent" : action(a.action(d));
                String y = b == null ? "absent" : action(b.action(d));
                boolean thresholdChanged = a != null && b != null && a.threshold() != b.threshold();
                if (!x.equals(y) || (thresholdChanged && d == Direction.INPUT)) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("rule", id);
                    c.put("direction", ModerationSummary.lower(d));
                    c.put("before", x);
                    c.put("after", y);
                    if (thresholdChanged) {
                        c.put("threshold_before", a.threshold());
                        c.put("threshold_after", b.threshold());
                    }
                    changed.add(c);
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("profile_before", from == null ? null : from.profile());
        m.put("profile_after", to == null ? null : to.profile());
        m.put("changed_rules", changed);
        return Map.of("moderation", m);
    }

    @Override
    public void activated(Map<String, String> tree) {
        if (tree.containsKey(PROFILES)) {
            moderation.store().reload();
        }
    }

    private RuleSet ruleSet(Map<String, Profile> profiles, PolicyDecision decision) {
        if (profiles == null || decision == null) {
            return null;
        }
        var settings = decision.moderation();
        Profile p = profiles.get(settings == null ? ModerationService.DEFAULT_PROFILE : settings.profile());
        return p == null ? null : new RuleSet(p, settings == null ? Map.of() : settings.overrides());
    }

    /** The tree's profiles; without a profiles document, the ones in force. Null when they do not parse. */
    private Map<String, Profile> profiles(Map<String, String> tree, List<CompileError> problems) {
        String text = tree.get(PROFILES);
        if (text == null) {
            return moderation.store().status().active().profiles();
        }
        try {
            return ProfileParser.parse(text);
        } catch (ProfileParser.InvalidProfilesException e) {
            JsonLocations locations = JsonLocations.of(text);
            for (String problem : e.problems()) {
                int colon = problem.indexOf(": ");
                var loc = colon < 0 ? null : locations.find(problem.substring(0, colon));
                problems.add(new CompileError(PROFILES, loc == null ? 0 : loc.line(), loc == null ? 0 : loc.column(),
                        "invalid_moderation_profile", problem));
            }
            return null;
        }
    }

    /** A problem at the place in the tenant data where {@code member} of the tenant's settings is written. */
    private static CompileError located(Map<String, String> tree, String tenant, String member, String code,
            String message) {
        for (var file : tree.entrySet()) {
            String path = file.getKey();
            if (!path.startsWith("cleargate/") || !path.endsWith("data.json") || path.startsWith("cleargate/moderation/")) {
                continue;
            }
            JsonLocations locations = JsonLocations.of(file.getValue());
            for (String candidate : List.of(tenant + "." + member, member)) {
                var loc = locations.exact(candidate);
                if (loc != null && (candidate.startsWith(tenant + ".") || path.contains("/" + tenant + "/"))) {
                    return new CompileError(path, loc.line(), loc.column(), code, message);
                }
            }
        }
        return new CompileError(null, 0, 0, code, message);
    }

    private static String action(Verdict.Action a) {
        return a == null ? "off" : ModerationSummary.lower(a);
    }
}
