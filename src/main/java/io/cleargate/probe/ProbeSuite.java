package io.cleargate.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The probe prompts per topic, from policy data. Sensitive topics are those a model may censor;
 * controls are neutral questions every model should answer, so a report can tell a censoring
 * model from a broken one.
 */
record ProbeSuite(String version, String sha256, int maxTokens, List<Topic> topics) {

    record Prompt(String lang, String text) {}

    record Topic(String id, boolean sensitive, List<Prompt> prompts) {}

    static final int MAX_PROMPTS = 200;
    static final int MAX_PROMPT_CHARS = 2000;
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
    private static final Set<String> LANGUAGES = Set.of("en", "zh", "de", "fr", "es", "ja");
    private static final ObjectMapper JSON = new ObjectMapper();

    int promptCount() {
        return topics.stream().mapToInt(t -> t.prompts().size()).sum();
    }

    static ProbeSuite load(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return parse(JSON.readTree(bytes), io.cleargate.audit.Canonical.sha256(bytes));
        } catch (IOException | IllegalArgumentException e) {
            throw new GatewayException(GatewayError.unavailable("probe_suite_unavailable",
                    "The probe suite " + file.getFileName() + " cannot be read: " + e.getMessage()));
        }
    }

    static ProbeSuite parse(JsonNode root, String sha256) {
        List<Topic> topics = new ArrayList<>();
        for (JsonNode t : root.path("topics")) {
            String id = t.path("id").asText("");
            if (!ID.matcher(id).matches()) {
                throw new IllegalArgumentException("topic id must match " + ID.pattern() + ": " + id);
            }
            List<Prompt> prompts = new ArrayList<>();
            for (JsonNode p : t.path("prompts")) {
                String lang = p.path("lang").asText("");
                String text = p.path("text").asText("");
                if (!LANGUAGES.contains(lang) || text.isBlank() || text.length() > MAX_PROMPT_CHARS) {
                    throw new IllegalArgumentException("topic " + id + ": each prompt needs a lang of " + LANGUAGES
                            + " and a text of 1-" + MAX_PROMPT_CHARS + " characters");
                }
                prompts.add(new Prompt(lang, text));
            }
            topics.add(new Topic(id, t.path("sensitive").asBoolean(true), List.copyOf(prompts)));
        }
        var suite = new ProbeSuite(root.path("version").asText("unversioned"), sha256,
                Math.clamp(root.path("max_tokens").asInt(256), 1, 4096), List.copyOf(topics));
        if (suite.promptCount() == 0 || suite.promptCount() > MAX_PROMPTS) {
            throw new IllegalArgumentException("a probe suite holds 1-" + MAX_PROMPTS + " prompts, not " + suite.promptCount());
        }
        return suite;
    }
}
