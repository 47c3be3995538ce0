package io.cleargate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The house rules of README's architecture section, read from the sources: which top-level package
 * may name which. Imports and fully-qualified names both count, in code and in comments alike: a
 * comment that points at another feature is a tie a reader follows too.
 */
class ArchitectureTest {

    private static final Path ROOT = Path.of("src/main/java/io/cleargate");
    private static final Pattern NAMED = Pattern.compile("\\bio\\.cleargate\\.([a-z_]+)\\b");
    /** Every top-level package but the ground floor and the shared SPI layers is a feature. */
    private static final Set<String> NOT_FEATURES = Set.of("domain", "concurrent", "http", "config", "pipeline");

    /** package → packages it names (top level only), with one example file each. */
    private static final Map<String, Map<String, String>> NAMES = new TreeMap<>();

    @BeforeAll
    static void read() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT)) {
            files.filter(p -> p.toString().endsWith(".java")).forEach(ArchitectureTest::readFile);
        }
    }

    private static void readFile(Path file) {
        String from = ROOT.relativize(file).getName(0).toString();
        if (from.endsWith(".java")) {
            return;
        }
        String code;
        try {
            code = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Matcher m = NAMED.matcher(code);
        while (m.find()) {
            String to = m.group(1);
            if (!to.equals(from)) {
                NAMES.computeIfAbsent(from, k -> new TreeMap<>()).putIfAbsent(to, ROOT.relativize(file).toString());
            }
        }
    }

    private static Set<String> named(String from) {
        return NAMES.getOrDefault(from, Map.of()).keySet();
    }

    @Test
    void theGroundFloorNamesNothingOfCleargate() {
        assertEquals(Set.of(), named("domain"), () -> "domain names " + NAMES.get("domain"));
        assertEquals(Set.of(), named("concurrent"), () -> "concurrent names " + NAMES.get("concurrent"));
    }

    @Test
    void theSharedHttpClientNamesOnlyTheThreadHelpers() {
        assertEquals(Set.of("concurrent"), named("http"), () -> "http names " + NAMES.get("http"));
    }

    @Test
    void thePipelineNamesOnlyTheGroundFloor() {
        assertEquals(Set.of("domain"), named("pipeline"), () -> "pipeline names " + NAMES.get("pipeline"));
    }

    @Test
    void theEngineIsAPlugInThatNamesNoGovernanceFeature() {
        var forbidden = new TreeSet<>(named("engine"));
        forbidden.retainAll(Set.of("identity", "tenant", "policy", "moderation", "audit", "routing", "api", "pipeline"));
        assertEquals(Set.of(), forbidden, () -> "engine names " + NAMES.get("engine"));
    }

    @Test
    void moderationAndAuditNameNeitherRoutingNorTheEngine() {
        for (String feature : List.of("moderation", "audit")) {
            var forbidden = new TreeSet<>(named(feature));
            forbidden.retainAll(Set.of("routing", "engine"));
            assertEquals(Set.of(), forbidden, () -> feature + " names " + NAMES.get(feature));
        }
    }

    @Test
    void nothingNamesTheHttpSurface() {
        List<String> offenders = new ArrayList<>();
        NAMES.forEach((from, to) -> {
            if (to.containsKey("api")) {
                offenders.add(from + " (" + to.get("api") + ")");
            }
        });
        assertEquals(List.of(), offenders);
    }

    @Test
    void noTwoFeaturesNameEachOther() {
        List<String> cycles = new ArrayList<>();
        Set<String> features = new TreeSet<>(NAMES.keySet());
        features.removeAll(NOT_FEATURES);
        for (String a : features) {
            for (String b : features) {
                if (a.compareTo(b) < 0 && named(a).contains(b) && named(b).contains(a)) {
                    cycles.add(a + " (" + NAMES.get(a).get(b) + ") <-> " + b + " (" + NAMES.get(b).get(a) + ")");
                }
            }
        }
        assertEquals(List.of(), cycles);
    }

    @Test
    void theModelRefusalFeatureNamesOnlyTheFloorsBelowItAndOnlyTheConsoleNamesTheProbeSuite() {
        // policy: the tenant's decision says what to do about a refusal (observe, flag, retry)
        var allowed = Set.of("domain", "pipeline", "policy");
        var named = new TreeSet<>(named("refusal"));
        named.removeAll(allowed);
        assertEquals(Set.of(), named, () -> "refusal names " + NAMES.get("refusal"));
        List<String> offenders = new ArrayList<>();
        NAMES.forEach((from, to) -> {
            if (to.containsKey("probe") && !from.equals("console")) {
                offenders.add(from + " (" + to.get("probe") + ")");
            }
        });
        assertEquals(List.of(), offenders);
    }

    @Test
    void theRulesSeeTheWholeHouse() {
        assertTrue(NAMES.keySet().containsAll(Set.of("pipeline", "engine", "identity", "policy", "moderation", "audit",
                "routing", "api")), () -> "read only " + NAMES.keySet());
    }
}
