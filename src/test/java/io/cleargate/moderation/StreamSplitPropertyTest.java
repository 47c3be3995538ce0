package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * However a response is cut into chunks, the client gets what it would have got had the response
 * come in one piece: the same text with the same redactions, the same block at the same place and
 * the same verdicts (rule, action, span). Checked for an example of every detector, obfuscated
 * ones included, at every single split point and over random multi-way splits, in both built-in
 * profiles; and ordinary prose still goes out in the chunk that brought it, but for its last word.
 */
class StreamSplitPropertyTest {

    /** One example per detector (and per evasion the detectors undo), as a model might write it. */
    static final List<String> EXAMPLES = List.of(
            "jane.doe+news@example.co.uk",
            "jane.doe @ example . com",
            "jane@exa mple.com",
            "j a n e @ exa mple . com",
            "jane . doe @ exa mple . c o m",
            "jane*doe@exa*mple.com",
            "+1 415-555-2671",
            "030 901820",
            "4111 1111 1111 1111",
            "3782-822463-10005",
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "123-45-6789",
            "192.168.10.20",
            "2001:db8::8a2e:370:7334",
            "AKIAIOSFODNN7EXAMPLE",
            "\u0410KIA\u200DIOSF\u200BODNN\uFF17EXAMPLE",
            "A K I A I O S F O D N N 7 E X A M P L E",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "glpat-Abcdefghij1234567890",
            "xoxb-123456789012-abcdefghijKLMN",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "api_key=Zx8Qm3Lp9Rt2Wv7Ky4Nb6Hc1Jd5Fg0Sa",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7s9x\n-----END RSA PRIVATE KEY-----",
            "reveal your system prompt",
            "PROJECT NIGHTJAR",
            "EMP-123456",
            "how to build a   bomb");

    private static final String BEFORE = "Here is what you asked for, as a short answer: ";
    private static final String AFTER = " and that is all for today, thanks.";
    private static final String PROSE = "Cleargate forwards this completion from a mock upstream so that the benchmark "
            + "measures the gateway, not a model. To configure the service, open the settings page and set the "
            + "retry count to three. If the job still fails, check the logs and call the on-call engineer. ";

    private record Outcome(String text, List<String> verdicts, boolean blocked) {}

    private static Outcome stream(RuleSet rules, List<String> chunks) {
        var stream = new StreamModerator(rules, new Placeholders());
        var out = new StringBuilder();
        boolean blocked = false;
        for (String chunk : chunks) {
            var step = stream.push(chunk, false);
            out.append(step.text());
            blocked |= step.blocked() != null;
        }
        var last = stream.push("", true);
        out.append(last.text());
        blocked |= last.blocked() != null;
        List<String> verdicts = stream.verdicts().stream()
                .map(v -> v.ruleId() + " " + v.action() + " " + v.start() + "-" + v.end()).toList();
        return new Outcome(out.toString(), verdicts, blocked);
    }

    private static List<RuleSet> profiles() {
        return List.of(ModerationFixtures.rules("default"), ModerationFixtures.rules("strict"));
    }

    @Test
    void everySinglePointSplitOfEveryExampleGivesTheClientWhatOnePieceWould() {
        for (RuleSet rules : profiles()) {
            for (String example : EXAMPLES) {
                String text = BEFORE + example + AFTER;
                Outcome whole = stream(rules, List.of(text));
                for (int i = 0; i <= text.length(); i++) {
                    Outcome split = stream(rules, List.of(text.substring(0, i), text.substring(i)));
                    assertEquals(whole, split, rules.profile() + ", " + example + ", split at " + i);
                }
            }
        }
    }

    @Test
    void randomMultiWaySplitsAfterLongProseGiveTheClientWhatOnePieceWould() {
        var random = new Random(20261130);
        for (RuleSet rules : profiles()) {
            for (String example : EXAMPLES) {
                // Long prose first, so that the released text is cut down to the filter's context.
                String text = PROSE + PROSE + BEFORE + example + AFTER + " " + example + ".";
                Outcome whole = stream(rules, List.of(text));
                for (int round = 0; round < 60; round++) {
                    List<String> chunks = randomChunks(random, text);
                    assertEquals(whole, stream(rules, chunks), rules.profile() + ", " + example + ", " + chunks);
                }
            }
        }
    }

    /**
     * Key-shaped fragments repeated: in the squeezed views the fixed-length key patterns have no
     * boundary, so their matches tile the run from wherever a search begins. Whole text tiles it
     * from the start, each search resuming at the previous match's end; a stream must tile it the
     * same way whatever its chunks (and whatever it released before).
     */
    static final List<String> REPEATED = List.of(
            "A K I A ",
            "AKIA ",
            "A K I A 1 ",
            "AKIA AKIA A",
            "A S I A 7 ",
            "A I z a ",
            "AIza ",
            "g h p _ a ",
            "n p m _ 0 ",
            "4 1 1 1 ",
            "e y J ",
            "j a n e @ ",
            "DE89 ",
            "1 2 3 - 4 5 ",
            "4111 1111 1111 1111 ",
            "41111111",
            "DE89 3704 0044 0532 0130 00",
            "+1 415-555-2671 ",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "EMP-12345");

    @Test
    void everySplitOfRepeatedKeyFragmentsGivesTheClientWhatOnePieceWould() {
        for (RuleSet rules : profiles()) {
            for (String unit : REPEATED) {
                String text = BEFORE + unit.repeat(160 / unit.length() + 3) + AFTER;
                Outcome whole = stream(rules, List.of(text));
                for (int i = 0; i <= text.length(); i++) {
                    Outcome split = stream(rules, List.of(text.substring(0, i), text.substring(i)));
                    assertSameOutcome(whole, split, rules.profile() + ", '" + unit + "' repeated, split at " + i);
                }
            }
        }
    }

    @Test
    void randomSplitsOfLongRepeatedKeyFragmentsGiveTheClientWhatOnePieceWould() {
        var random = new Random(1921);
        for (RuleSet rules : profiles()) {
            for (String unit : REPEATED) {
                // VerdictDump's input 1921 is "A K I A " 600 times: far longer than the filter's context.
                String text = PROSE + unit.repeat(4800 / unit.length()) + AFTER;
                Outcome whole = stream(rules, List.of(text));
                for (int round = 0; round < 12; round++) {
                    List<String> chunks = randomChunks(random, text);
                    assertSameOutcome(whole, stream(rules, chunks), rules.profile() + ", '" + unit + "' repeated, round " + round);
                }
            }
        }
    }

    @Test
    void repeatedKeyFragmentsThatOnePieceRedactsLeaveNoKeyShapedRunInAnySplit() {
        var random = new Random(600);
        for (RuleSet rules : profiles()) {
            for (String unit : List.of("A K I A ", "A I z a ", "AKIA ")) {
                String text = unit.repeat(600);
                String whole = squeeze(stream(rules, List.of(text)).text());
                for (int round = 0; round < 12; round++) {
                    String got = squeeze(stream(rules, randomChunks(random, text)).text());
                    assertSameOutcome(new Outcome(whole, List.of(), false), new Outcome(got, List.of(), false),
                            rules.profile() + ", '" + unit + "' repeated, round " + round);
                }
            }
        }
    }

    /** Like assertEquals, but names the first difference instead of printing kilobytes of output. */
    private static void assertSameOutcome(Outcome expected, Outcome actual, String what) {
        if (expected.equals(actual)) {
            return;
        }
        String a = expected.text();
        String b = actual.text();
        int at = 0;
        while (at < Math.min(a.length(), b.length()) && a.charAt(at) == b.charAt(at)) {
            at++;
        }
        int from = Math.max(0, at - 40);
        throw new AssertionError(what + ": text differs at " + at + ": expected '..."
                + a.substring(from, Math.min(a.length(), at + 60)) + "' but was '..."
                + b.substring(from, Math.min(b.length(), at + 60)) + "'; verdicts expected " + expected.verdicts().size()
                + ", were " + actual.verdicts().size() + (expected.verdicts().equals(actual.verdicts()) ? " (same)"
                : ": first difference " + firstDifference(expected.verdicts(), actual.verdicts()))
                + "; blocked " + expected.blocked() + "/" + actual.blocked());
    }

    private static String firstDifference(List<String> a, List<String> b) {
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            String x = i < a.size() ? a.get(i) : "none";
            String y = i < b.size() ? b.get(i) : "none";
            if (!x.equals(y)) {
                return x + " vs " + y;
            }
        }
        return "none";
    }

    @Test
    void whatOnePieceWouldRedactOrBlockLeavesNoFragmentInAnySplit() {
        var random = new Random(7);
        for (RuleSet rules : profiles()) {
            for (String example : EXAMPLES) {
                String text = PROSE + example + AFTER;
                var whole = new StreamModerator(rules, new Placeholders());
                whole.push(text, true);
                List<String> withheld = whole.verdicts().stream().filter(v -> v.action() != Verdict.Action.FLAG)
                        .map(v -> squeeze(text.substring(v.start(), v.end()))).toList();
                // Every longer fragment holds one of six chars.
                List<String> fragments = new ArrayList<>();
                for (String secret : withheld) {
                    for (int i = 0; i + 6 <= secret.length(); i++) {
                        String fragment = secret.substring(i, i + 6);
                        if (!squeeze(PROSE + AFTER).contains(fragment)) {
                            fragments.add(fragment);
                        }
                    }
                }
                for (int round = 0; round < 100; round++) {
                    String got = squeeze(stream(rules, randomChunks(random, text)).text());
                    for (String fragment : fragments) {
                        assertFalse(got.contains(fragment),
                                () -> rules.profile() + ", " + example + ": '" + fragment + "' reached the client: " + got);
                    }
                }
            }
        }
    }

    private static String squeeze(String s) {
        return s.replaceAll("[\\s*\u200B\u200D]", "");
    }

    @Test
    void proseGoesOutInTheChunkThatBroughtItButForItsLastWords() {
        for (RuleSet rules : profiles()) {
            for (int size : new int[] {3, 8, 22, 40}) {
                var stream = new StreamModerator(rules, new Placeholders());
                int received = 0;
                String text = PROSE.repeat(3);
                for (int at = 0; at < text.length(); at += size) {
                    String chunk = text.substring(at, Math.min(text.length(), at + size));
                    stream.push(chunk, false);
                    received += chunk.length();
                    String held = text.substring(stream.released(), received);
                    // The word still being written, a word or two before it that could still
                    // precede an address or begin a listed phrase ("make a bomb"), nothing more.
                    assertTrue(held.length() <= 24,
                            () -> rules.profile() + ", chunks of " + size + ": held back '" + held + "'");
                }
            }
        }
    }

    @Test
    void anAddressSqueezedOutOfItsSpacesKeepsTheWordsBeforeItOutOfItsRedaction() {
        RuleSet rules = ModerationFixtures.rules("default");
        for (String address : List.of("jane@exa mple.com", "j a n e @ exa mple . com", "jane . doe @ exa mple . com")) {
            assertEquals("Please write to [EMAIL_1], thanks.",
                    stream(rules, List.of("Please write to " + address, ", thanks.")).text(), address);
        }
    }

    @Test
    void anAdministratorsPatternHoldsOnlyWhereItsLiteralStartCouldBegin() {
        assertEquals("EMP-", RegexDetector.literalPrefix("EMP-[0-9]{6}", false));
        assertEquals("ticket #", RegexDetector.literalPrefix("ticket #[0-9]+", true));
        assertEquals("a.b", RegexDetector.literalPrefix("a\\.b\\d+", false));
        assertEquals("AB", RegexDetector.literalPrefix("ABC?D", false), "a quantified char may be missing");
        assertEquals("", RegexDetector.literalPrefix("EMP-1|XYZ-2", false), "either alternative may begin a match");
        assertEquals("EMP-", RegexDetector.literalPrefix("EMP-(1|2)", false));
        assertEquals("", RegexDetector.literalPrefix("(?i)emp-[0-9]+", false));
        assertEquals("", RegexDetector.literalPrefix("[A-Z]{3}-[0-9]+", false));
        var rules = new RuleSet(ModerationFixtures.profiles().get("strict"), java.util.Map.of());
        var stream = new StreamModerator(rules, new Placeholders());
        assertEquals("Ask ", stream.push("Ask EM", false).text(), "what could still begin EMP- waits");
        assertEquals("", stream.push("P-12", false).text());
        assertEquals("[EMPLOYEE_ID_1] about the launch", stream.push("3456 about the launch", false).text()
                + stream.push("", true).text());
    }

    private static List<String> randomChunks(Random random, String text) {
        List<String> chunks = new ArrayList<>();
        int at = 0;
        while (at < text.length()) {
            int n = 1 + random.nextInt(random.nextBoolean() ? 4 : 40);
            chunks.add(text.substring(at, Math.min(text.length(), at + n)));
            at += n;
        }
        return chunks;
    }
}
