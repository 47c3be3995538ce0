package io.cleargate.routing;

import io.cleargate.engine.Backend;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads backend declarations in the same properties form as the gateway's configuration
 * ({@code cleargate.backends.<id>.<field>=value}, {@code ${ENV_VAR}} references allowed), so the
 * file an operator already mounts (k8s: {@code backends.properties}) is the one a reload reads.
 * Either every backend is valid and the whole set is returned, or every problem is named with its
 * property: a set is never half-applied.
 */
final class BackendsFile {

    private static final String PREFIX = "cleargate.backends.";
    private static final Set<String> FIELDS = Set.of("kind", "base-url", "model-dir", "models", "embedding-models",
            "region", "jurisdiction", "weight", "max-concurrency", "api-key");
    /** {@code served-names.<gateway model id>=<upstream name>}, one key per model. */
    private static final String SERVED_NAMES = "served-names.";
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_.]*)(?::([^}]*))?}");

    /** The parsed backends, or the problems. */
    record Parsed(Map<String, Backend> backends, List<String> problems) {}

    private BackendsFile() {}

    static Parsed parse(String text, UnaryOperator<String> environment) {
        List<String> order = new ArrayList<>();
        // Keys in file order, so backends keep the order the operator wrote them in (as configuration does).
        Properties props = new Properties() {
            @Override
            public synchronized Object put(Object key, Object value) {
                order.add((String) key);
                return super.put(key, value);
            }
        };
        try {
            props.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            return new Parsed(Map.of(), List.of("the file is not a properties file: " + e.getMessage()));
        }
        List<String> problems = new ArrayList<>();
        Map<String, Map<String, String>> byId = new LinkedHashMap<>();
        for (String key : order.stream().distinct().toList()) {
            if (!key.startsWith(PREFIX)) {
                continue; // other settings may share the file
            }
            String rest = key.substring(PREFIX.length());
            int dot = rest.indexOf('.');
            String id = dot < 0 ? rest : rest.substring(0, dot);
            String field = dot < 0 ? "" : rest.substring(dot + 1);
            if (!ID.matcher(id).matches()) {
                problems.add(key + ": backend id must match " + ID.pattern());
                continue;
            }
            if (!FIELDS.contains(field) && !(field.startsWith(SERVED_NAMES) && field.length() > SERVED_NAMES.length())) {
                problems.add(key + ": unknown field (known: " + new TreeSet<>(FIELDS) + ")");
                continue;
            }
            String value = expand(props.getProperty(key).strip(), environment, key, problems);
            byId.computeIfAbsent(id, k -> new LinkedHashMap<>()).put(field, value);
        }
        Map<String, Backend> backends = new LinkedHashMap<>();
        byId.forEach((id, f) -> {
            String at = PREFIX + id;
            try {
                if (f.get("kind") == null) {
                    throw new IllegalArgumentException(at + ".kind: required (embedded or openai)");
                }
                Backend.Kind kind;
                try {
                    kind = Backend.Kind.valueOf(f.get("kind").toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(at + ".kind: must be embedded or openai, was '" + f.get("kind") + "'");
                }
                List<String> models = list(f.get("models"));
                List<String> embeddingModels = list(f.get("embedding-models"));
                if (models.isEmpty() && embeddingModels.isEmpty()) {
                    throw new IllegalArgumentException(at + ".models: at least one model (or embedding-models) is required");
                }
                Map<String, String> servedNames = new LinkedHashMap<>();
                f.forEach((field, value) -> {
                    if (field.startsWith(SERVED_NAMES)) {
                        servedNames.put(field.substring(SERVED_NAMES.length()), value);
                    }
                });
                backends.put(id, new Backend(id, kind, Optional.ofNullable(f.get("base-url")),
                        Optional.ofNullable(f.get("model-dir")), models, f.getOrDefault("region", "local"),
                        f.getOrDefault("jurisdiction", "LOCAL"), integer(f, "weight", 1, at),
                        integer(f, "max-concurrency", 64, at), Optional.ofNullable(f.get("api-key")), embeddingModels,
                        servedNames));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage().startsWith(PREFIX) ? e.getMessage() : at + ": " + e.getMessage());
            }
        });
        if (problems.isEmpty() && backends.isEmpty()) {
            problems.add("the file declares no backend (" + PREFIX + "<id>.kind=...)");
        }
        return new Parsed(problems.isEmpty() ? backends : Map.of(), problems);
    }

    private static List<String> list(String value) {
        return value == null ? List.of()
                : Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static int integer(Map<String, String> f, String field, int fallback, String at) {
        String v = f.get(field);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(at + "." + field + ": not an integer: '" + v + "'");
        }
    }

    /** Resolves {@code ${NAME}} and {@code ${NAME:default}}; an unset name without default is a problem. */
    private static String expand(String value, UnaryOperator<String> environment, String key, List<String> problems) {
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String resolved = environment.apply(m.group(1));
            if (resolved == null) {
                resolved = m.group(2);
            }
            if (resolved == null) {
                problems.add(key + ": ${" + m.group(1) + "} is not set");
                resolved = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(resolved));
        }
        m.appendTail(out);
        return out.toString();
    }
}
