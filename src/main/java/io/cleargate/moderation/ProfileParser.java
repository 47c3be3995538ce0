package io.cleargate.moderation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.moderation.Verdict.Action;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads moderation profiles from JSON and validates all of them. The file is a map from profile
 * name to {"description", "rules": [...]}; it lives at policies/cleargate/moderation/profiles/data.json,
 * so OPA also loads it as {@code data.cleargate.moderation.profiles}. Either every profile is valid and the
 * whole set is returned, or {@link InvalidProfilesException} lists every problem with its JSON
 * path: a set is never half-applied.
 */
final class ProfileParser {

    static final Set<String> DETECTORS = Set.of("email", "phone", "card", "iban", "ssn", "ip", "cloud_key", "token",
            "private_key", "jwt", "entropy", "keywords", "topic", "regex", "injection", "system_prompt_extraction");
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern CATEGORY = Pattern.compile("[a-z0-9_]+(\\.[a-z0-9_]+)*");
    private static final Set<String> RULE_FIELDS = Set.of("id", "detector", "category", "description", "input", "output",
            "threshold", "placeholder", "terms", "pattern", "caseInsensitive", "view", "maxLength", "regions");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Thrown with every validation problem found. */
    static final class InvalidProfilesException extends Exception {
        private final List<String> problems;

        InvalidProfilesException(List<String> problems) {
            super(String.join("; ", problems));
            this.problems = List.copyOf(problems);
        }

        List<String> problems() {
            return problems;
        }
    }

    private ProfileParser() {}

    static Map<String, Profile> parse(String json) throws InvalidProfilesException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new InvalidProfilesException(List.of("not valid JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage())));
        }
        List<String> problems = new ArrayList<>();
        Map<String, Profile> profiles = new LinkedHashMap<>();
        if (root == null || !root.isObject()) {
            throw new InvalidProfilesException(List.of("the top level must be an object of profile name -> profile"));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var entry = it.next();
            Profile p = profile(entry.getKey(), entry.getValue(), problems);
            if (p != null) {
                profiles.put(entry.getKey(), p);
            }
        }
        if (!profiles.containsKey("default") && !root.has("default")) {
            problems.add("profile 'default' is missing: it is used whenever the policy names no profile");
        }
        if (!problems.isEmpty()) {
            throw new InvalidProfilesException(problems);
        }
        return profiles;
    }

    private static Profile profile(String name, JsonNode node, List<String> problems) {
        String path = name;
        if (!ID.matcher(name).matches()) {
            problems.add(path + ": profile name must match " + ID.pattern());
        }
        if (!node.isObject()) {
            problems.add(path + ": must be an object with description and rules");
            return null;
        }
        JsonNode rulesNode = node.get("rules");
        if (rulesNode == null || !rulesNode.isArray() || rulesNode.isEmpty()) {
            problems.add(path + ".rules: must be a non-empty array");
            return null;
        }
        List<Rule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < rulesNode.size(); i++) {
            Rule r = rule(path + ".rules[" + i + "]", rulesNode.get(i), problems);
            if (r != null && !ids.add(r.id())) {
                problems.add(path + ".rules[" + i + "].id: duplicate rule id '" + r.id() + "'");
            } else if (r != null) {
                rules.add(r);
            }
        }
        return new Profile(name, text(node, "description", ""), rules);
    }

    private static Rule rule(String path, JsonNode node, List<String> problems) {
        if (!node.isObject()) {
            problems.add(path + ": must be an object");
            return null;
        }
        int before = problems.size();
        node.fieldNames().forEachRemaining(f -> {
            if (!RULE_FIELDS.contains(f)) {
                problems.add(path + "." + f + ": unknown field (known: " + new java.util.TreeSet<>(RULE_FIELDS) + ")");
            }
        });
        String id = text(node, "id", null);
        if (id == null || !ID.matcher(id).matches()) {
            problems.add(path + ".id: required, must match " + ID.pattern());
        }
        String type = text(node, "detector", null);
        if (type == null || !DETECTORS.contains(type)) {
            problems.add(path + ".detector: must be one of " + new java.util.TreeSet<>(DETECTORS) + ", was " + type);
            return null;
        }
        Action input = action(path + ".input", text(node, "input", "off"), problems);
        Action output = action(path + ".output", text(node, "output", "off"), problems);
        double threshold = node.has("threshold") ? node.get("threshold").asDouble(-1) : 0.5;
        if (threshold < 0 || threshold > 1 || (node.has("threshold") && !node.get("threshold").isNumber())) {
            problems.add(path + ".threshold: must be a number between 0 and 1");
        }
        Detector detector;
        try {
            detector = detector(type, node);
        } catch (IllegalArgumentException e) {
            problems.add(path + ": " + e.getMessage());
            return null;
        }
        String category = text(node, "category", detector.defaultCategory());
        if (!CATEGORY.matcher(category).matches()) {
            problems.add(path + ".category: must be dotted lower-case words, was '" + category + "'");
        }
        String description = text(node, "description", null);
        if (description == null || description.isBlank()) {
            problems.add(path + ".description: required (it is published to the tenant's users)");
        }
        String placeholder = text(node, "placeholder", detector.placeholder());
        if (!placeholder.matches("[A-Z][A-Z0-9_]{0,31}")) {
            problems.add(path + ".placeholder: must be upper-case letters, digits and _, was '" + placeholder + "'");
        }
        if (problems.size() > before) {
            return null;
        }
        return new Rule(id, category, description, detector, input, output, threshold, placeholder);
    }

    private static Detector detector(String type, JsonNode node) {
        return switch (type) {
            case "email" -> BuiltinDetectors.email();
            case "phone" -> new PhoneDetector(strings(node, "regions", List.of("US", "GB", "DE", "FR")));
            case "card" -> new CardDetector();
            case "iban" -> new IbanDetector();
            case "ssn" -> BuiltinDetectors.ssn();
            case "ip" -> BuiltinDetectors.ipAddress();
            case "cloud_key" -> BuiltinDetectors.cloudKey();
            case "token" -> BuiltinDetectors.token();
            case "private_key" -> BuiltinDetectors.privateKey();
            case "jwt" -> BuiltinDetectors.jwt();
            case "entropy" -> BuiltinDetectors.entropy();
            case "injection" -> InjectionDetector.injection();
            case "system_prompt_extraction" -> InjectionDetector.extraction();
            case "keywords", "topic" -> {
                List<String> terms = strings(node, "terms", List.of());
                if (terms.isEmpty()) {
                    throw new IllegalArgumentException("terms: a " + type + " rule needs a non-empty list of terms");
                }
                yield new KeywordDetector(type, type.equals("topic") ? "topic" : "keyword", terms);
            }
            case "regex" -> {
                String pattern = text(node, "pattern", null);
                if (pattern == null || pattern.isEmpty()) {
                    throw new IllegalArgumentException("pattern: a regex rule needs a pattern");
                }
                yield new RegexDetector("custom", pattern, node.path("caseInsensitive").asBoolean(false),
                        text(node, "view", "clean"), node.path("maxLength").asInt(128));
            }
            default -> throw new IllegalArgumentException("unknown detector " + type);
        };
    }

    static Action action(String path, String value, List<String> problems) {
        String v = value.toLowerCase(Locale.ROOT);
        return switch (v) {
            case "block" -> Action.BLOCK;
            case "redact" -> Action.REDACT;
            case "flag" -> Action.FLAG;
            case "off" -> null;
            default -> {
                problems.add(path + ": unknown action '" + value + "' (expected block, redact, flag or off)");
                yield null;
            }
        };
    }

    private static String text(JsonNode node, String field, String fallback) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? fallback : v.asText();
    }

    private static List<String> strings(JsonNode node, String field, List<String> fallback) {
        JsonNode v = node.get(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException(field + ": must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        v.forEach(e -> out.add(e.asText()));
        return out;
    }
}
