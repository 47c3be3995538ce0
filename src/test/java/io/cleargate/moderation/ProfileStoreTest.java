package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.moderation.Verdict.Direction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileStoreTest {

    @TempDir
    Path dir;

    private static final String ONE_RULE = """
            {"default": {"description": "d", "rules": [
              {"id": "mail", "detector": "email", "description": "e-mail", "input": "%s", "output": "redact"}]}}
            """;

    @Test
    void validationReportsEveryProblemWithItsPath() {
        var problems = DetectorsTest.assertInvalid("""
                {"default": {"rules": [
                  {"id": "a", "detector": "emial", "description": "x", "input": "block"},
                  {"id": "b", "detector": "email", "input": "blok", "threshold": 2},
                  {"id": "b", "detector": "keywords", "description": "k", "terms": []},
                  {"id": "c", "detector": "ssn", "description": "s", "colour": "red"}]},
                 "other": {"rules": []}}
                """);
        String all = String.join("\n", problems);
        assertTrue(all.contains("default.rules[0].detector: must be one of"), all);
        assertTrue(all.contains("default.rules[1].input: unknown action 'blok'"), all);
        assertTrue(all.contains("default.rules[1].threshold"), all);
        assertTrue(all.contains("default.rules[1].description: required"), all);
        assertTrue(all.contains("default.rules[2]: terms"), all);
        assertTrue(all.contains("default.rules[3].colour: unknown field"), all);
        assertTrue(all.contains("other.rules: must be a non-empty array"), all);
    }

    @Test
    void profilesWithoutDefaultAreRejected() {
        var problems = DetectorsTest.assertInvalid("""
                {"strict": {"rules": [{"id": "m", "detector": "email", "description": "d", "input": "flag"}]}}
                """);
        assertTrue(problems.getFirst().contains("'default' is missing"), problems::toString);
    }

    @Test
    void changedFileIsReloadedAndABrokenOneKeepsTheLastGoodProfiles() throws Exception {
        Path file = dir.resolve("data.json");
        Files.writeString(file, ONE_RULE.formatted("flag"));
        try (var store = new ProfileStore(file)) {
            assertEquals(Verdict.Action.FLAG, action(store));

            Files.writeString(file, ONE_RULE.formatted("block"));
            assertTrue(store.reload());
            assertEquals(Verdict.Action.BLOCK, action(store));

            Files.writeString(file, ONE_RULE.formatted("blok"));
            assertFalse(store.reload());
            assertEquals(Verdict.Action.BLOCK, action(store), "last good profile stays");
            assertTrue(store.status().lastProblems().getFirst().contains("unknown action 'blok'"));

            Files.writeString(file, "{ not json");
            assertFalse(store.reload());
            assertEquals(Verdict.Action.BLOCK, action(store));

            Files.delete(file);
            assertFalse(store.reload());
            assertEquals(Verdict.Action.BLOCK, action(store));
        }
    }

    @Test
    void watcherPicksUpAChangeWithoutBeingAsked() throws Exception {
        Path file = dir.resolve("data.json");
        Files.writeString(file, ONE_RULE.formatted("flag"));
        try (var store = new ProfileStore(file)) {
            store.watch(Duration.ofMillis(100));
            Files.writeString(file, ONE_RULE.formatted("block"));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (action(store) != Verdict.Action.BLOCK && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(Verdict.Action.BLOCK, action(store));
        }
    }

    @Test
    void missingFileAtStartupFallsBackToTheBuiltInDefaultSoFilteringIsNeverOff() {
        try (var store = new ProfileStore(dir.resolve("absent.json"))) {
            assertTrue(store.status().active().source().startsWith("classpath:"));
            var rules = new RuleSet(store.profile("default").orElseThrow(), Map.of());
            var hits = rules.scan(NormalizedText.of("AKIAIOSFODNN7EXAMPLE"), Direction.INPUT).findings();
            assertEquals(Verdict.Action.BLOCK, hits.getFirst().action());
        }
    }

    @Test
    void builtInDefaultIsTheSameAsTheRepositoryDefault() throws Exception {
        var builtin = ProfileStore.loadBuiltin().profiles().get("default");
        var repo = ModerationFixtures.profiles().get("default");
        assertEquals(summary(repo), summary(builtin));
    }

    private static List<String> summary(Profile p) {
        return p.rules().stream().map(r -> r.id() + ":" + r.detector().type() + ":" + r.input() + ":" + r.output() + ":"
                + r.threshold()).toList();
    }

    private static Verdict.Action action(ProfileStore store) {
        return store.profile("default").orElseThrow().rules().getFirst().input();
    }
}
