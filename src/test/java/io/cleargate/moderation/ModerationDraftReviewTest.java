package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.policy.OpaCli;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.policy.PolicyDecision.ModerationSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Moderation's part of reviewing a policy draft, on the repository's own policy tree. */
class ModerationDraftReviewTest {

    /** acme-eu's own settings file, which carries the shipped override. */
    private static final String TENANTS = "cleargate/tenants/acme-eu/data.json";
    private static final java.util.regex.Pattern TENANT_FILE =
            java.util.regex.Pattern.compile("cleargate/tenants/([^/]+)/data\\.json");

    @TempDir
    Path dir;

    private static Map<String, String> repositoryTree() throws Exception {
        Map<String, String> tree = new LinkedHashMap<>();
        List<String> paths = new java.util.ArrayList<>();
        try (var tenants = Files.list(Path.of("policies/cleargate/tenants"))) {
            tenants.filter(Files::isDirectory).sorted()
                    .forEach(d -> paths.add("cleargate/tenants/" + d.getFileName() + "/data.json"));
        }
        paths.add(ModerationDraftReview.PROFILES);
        paths.add(ModerationDraftReview.FIXTURES);
        for (String path : paths) {
            tree.put(path, Files.readString(Path.of("policies").resolve(path)));
        }
        return tree;
    }

    /** What each tenant's decision would select, read from the tenant data as the shipped policy does. */
    @SuppressWarnings("unchecked")
    private static Map<String, PolicyDecision> decisions(Map<String, String> tree) throws Exception {
        Map<String, Object> tenants = new LinkedHashMap<>();
        for (var file : tree.entrySet()) {
            var m = TENANT_FILE.matcher(file.getKey());
            if (m.matches()) {
                tenants.put(m.group(1), new ObjectMapper().readValue(file.getValue(), Map.class));
            }
        }
        Map<String, PolicyDecision> out = new LinkedHashMap<>();
        tenants.forEach((id, settings) -> {
            var m = (Map<String, Object>) ((Map<String, Object>) settings).get("moderation");
            out.put(id, new PolicyDecision(true, List.of(), List.of("r"), new PolicyDecision.Limits(null, null, null),
                    new ModerationSettings((String) m.get("profile"), (Map<String, String>) m.get("overrides")),
                    new PolicyDecision.AuditSettings("hash-only", 0, 1), null, "r", Map.of()));
        });
        return out;
    }

    private ModerationDraftReview review() throws Exception {
        Path file = dir.resolve("profiles.json");
        Files.writeString(file, Files.readString(Path.of("policies").resolve(ModerationDraftReview.PROFILES)));
        return new ModerationDraftReview(new ModerationService(new ProfileStore(file)));
    }

    @Test
    void theShippedTreeHasNoModerationProblemsAndItsFixturesPass() throws Exception {
        var tree = repositoryTree();
        var review = review();
        assertEquals(List.of(), review.problems(tree, decisions(tree)));
        var fixtures = review.test(tree, decisions(tree));
        assertEquals(List.of(), fixtures.failures());
        assertTrue(fixtures.total() >= 5);
    }

    @Test
    void anOverrideNamingNoRuleOfTheProfileIsAnErrorAtItsPlaceInTheTenantData() throws Exception {
        var tree = repositoryTree();
        tree.put(TENANTS, tree.get(TENANTS).replace("\"pii-email\": \"redact\"", "\"pii.email\": \"redact\""));
        List<OpaCli.CompileError> problems = review().problems(tree, decisions(tree));
        assertEquals(1, problems.size(), problems.toString());
        var p = problems.getFirst();
        assertEquals(TENANTS, p.file());
        assertEquals("invalid_moderation_override", p.code());
        int line = tree.get(TENANTS).substring(0, tree.get(TENANTS).indexOf("\"pii.email\"")).split("\n", -1).length;
        assertEquals(line, p.row());
        assertTrue(p.message().contains("profile 'strict' has no rule 'pii.email'; did you mean 'pii-email'?"), p.message());
    }

    @Test
    void unknownActionsDirectionsAndProfilesAreErrors() throws Exception {
        var tree = repositoryTree();
        tree.put(TENANTS, tree.get(TENANTS).replace("\"pii-email\": \"redact\"", "\"pii-email\": \"hide\", \"pii-card:sideways\": \"flag\""));
        String dev = "cleargate/tenants/dev/data.json";
        tree.put(dev, tree.get(dev).replace("\"profile\": \"default\"", "\"profile\": \"lenient\""));
        var messages = review().problems(tree, decisions(tree)).stream().map(OpaCli.CompileError::message).toList();
        assertTrue(messages.stream().anyMatch(m -> m.contains("unknown action 'hide'")), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.contains("'sideways' is not a direction")), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.contains("tenant dev: moderation profile 'lenient' does not exist")),
                messages.toString());
    }

    @Test
    void aBadProfileIsReportedWithItsLineInTheProfilesFile() throws Exception {
        var tree = repositoryTree();
        String profiles = tree.get(ModerationDraftReview.PROFILES)
                .replace("\"pattern\": \"EMP-[0-9]{6}\"", "\"pattern\": \"EMP-(\"")
                .replace("\"input\": \"flag\",\n        \"output\": \"flag\"", "\"input\": \"flagg\",\n        \"output\": \"flag\"");
        tree.put(ModerationDraftReview.PROFILES, profiles);
        var problems = review().problems(tree, decisions(tree));
        var regex = problems.stream().filter(p -> p.message().contains("does not compile")).findFirst().orElseThrow();
        assertEquals(ModerationDraftReview.PROFILES, regex.file());
        assertTrue(regex.message().startsWith("strict.rules[15]"), regex.message());
        assertTrue(regex.row() > 0 && profiles.split("\n")[regex.row() - 1].contains("{"), "row " + regex.row());
        var action = problems.stream().filter(p -> p.message().contains("unknown action 'flagg'")).findFirst().orElseThrow();
        assertTrue(profiles.split("\n")[action.row() - 1].contains("\"flagg\""), "row " + action.row());
    }

    @Test
    void aFixtureThatNoLongerHoldsFailsWithTheDifference() throws Exception {
        var tree = repositoryTree();
        tree.put(TENANTS, tree.get(TENANTS).replace("\"pii-email\": \"redact\"", "\"pii-email:input\": \"flag\""));
        var fixtures = review().test(tree, decisions(tree));
        assertEquals(1, fixtures.failures().size(), fixtures.failures().toString());
        var failure = fixtures.failures().getFirst();
        assertEquals("acme-eu-prompts-reach-the-model-with-e-mail-addresses-redacted", failure.name());
        assertTrue(failure.error().contains("rule pii-email took [flag], expected redact"), failure.error());
        assertTrue(failure.row() > 0);
    }

    @Test
    void whatIfNamesTheRulesWhoseActionChangesForTheTenant() throws Exception {
        var before = repositoryTree();
        var after = new LinkedHashMap<>(before);
        after.put(ModerationDraftReview.PROFILES, before.get(ModerationDraftReview.PROFILES).replace(
                "\"description\": \"Employee ids (EMP- followed by six digits).\",\n        \"input\": \"redact\"",
                "\"description\": \"Employee ids (EMP- followed by six digits).\",\n        \"input\": \"block\""));
        var review = review();
        var effect = review.whatIf(before, decisions(before).get("acme-eu"), after, decisions(after).get("acme-eu"));
        @SuppressWarnings("unchecked")
        var moderation = (Map<String, Object>) effect.get("moderation");
        assertEquals("strict", moderation.get("profile_after"));
        assertEquals(List.of(Map.of("rule", "employee-id", "direction", "input", "before", "redact", "after", "block")),
                moderation.get("changed_rules"));
        var none = review.whatIf(before, decisions(before).get("dev"), after, decisions(after).get("dev"));
        assertEquals(List.of(), ((Map<?, ?>) none.get("moderation")).get("changed_rules"));
    }

    @Test
    void activationLoadsTheNewProfilesAtOnce() throws Exception {
        Path file = dir.resolve("profiles.json");
        Files.writeString(file, Files.readString(Path.of("policies").resolve(ModerationDraftReview.PROFILES)));
        var service = new ModerationService(new ProfileStore(file));
        var review = new ModerationDraftReview(service);
        assertTrue(service.store().profile("lenient").isEmpty());
        String withLenient = Files.readString(file).replaceFirst("\\{", "{\"lenient\": {\"description\": \"l\", \"rules\": ["
                + "{\"id\": \"mail\", \"detector\": \"email\", \"description\": \"e\", \"input\": \"flag\"}]},");
        Files.writeString(file, withLenient);
        review.activated(Map.of(ModerationDraftReview.PROFILES, withLenient));
        assertTrue(service.store().profile("lenient").isPresent());
        assertNull(service.store().status().lastProblems().isEmpty() ? null : service.store().status().lastProblems());
    }
}
