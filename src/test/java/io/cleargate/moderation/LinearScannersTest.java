package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The linear-time replacements find exactly the spans of the backtracking regexes they replace,
 * on generated texts made of the patterns' own pieces (where the two would most likely differ).
 */
class LinearScannersTest {

    /** The private key pattern the scanner replaces, as it was written. */
    private static final Pattern PRIVATE_KEY_REGEX = Pattern.compile(
            "-{3,}\\s*BEGIN[ A-Z0-9]{0,40}?PRIVATE ?KEY(?: BLOCK)?\\s*-{3,}"
                    + "(?:[\\s\\S]*?-{3,}\\s*END[ A-Z0-9]{0,40}?PRIVATE ?KEY(?: BLOCK)?\\s*-{3,}|[\\s\\S]*+)",
            Pattern.CASE_INSENSITIVE);

    private static String generate(Random random, String[] pieces, int count) {
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            sb.append(pieces[random.nextInt(pieces.length)]);
        }
        return sb.toString();
    }

    private static List<String> regexSpans(Pattern p, String text) {
        return regexSpans(p, text, 0);
    }

    /** The spans of {@code Matcher.find(from)} and then {@code find()}. */
    private static List<String> regexSpans(Pattern p, String text, int from) {
        List<String> spans = new ArrayList<>();
        Matcher m = p.matcher(text);
        for (boolean found = m.find(from); found; found = m.find()) {
            spans.add(m.start() + "-" + m.end());
        }
        return spans;
    }

    /** Header and END lines, whole or with pieces dropped, doubled or swapped, between noise. */
    private static String keyText(Random random) {
        String[] line = {"-----", " ", "BEGIN", " RSA", " ", "PRIVATE", " ", "KEY", " BLOCK", "\n", "-----"};
        String[] noise = {"-", "--", "---", " ", "\n", "\t", "x", "1", "Z", "é", "begin", "end", "private key", "PUBLIC KEY",
            "MIIE", "==", "END", "BEGIN"};
        var sb = new StringBuilder();
        for (int part = 0; part < 1 + random.nextInt(4); part++) {
            sb.append(generate(random, noise, random.nextInt(3)));
            boolean end = random.nextBoolean();
            for (int i = 0; i < line.length; i++) {
                String piece = i == 2 && end ? "END" : line[i];
                if (random.nextInt(10) == 0) {
                    continue; // dropped
                }
                if (random.nextInt(12) == 0) {
                    piece = piece.toLowerCase();
                }
                sb.append(random.nextInt(15) == 0 ? piece + piece : piece);
                if (random.nextInt(15) == 0) {
                    sb.append(noise[random.nextInt(noise.length)]);
                }
            }
        }
        return sb.toString();
    }

    @Test
    void privateKeyScannerFindsTheSameBlocksAsTheRegex() {
        var random = new Random(7);
        int matched = 0;
        for (int round = 0; round < 20_000; round++) {
            matched += assertSameBlocks(keyText(random), 0);
        }
        assertTrue(matched > 500, "the generated texts contain blocks: " + matched);
    }

    /** Asserts the scan from {@code from} finds the regex's blocks from there; 1 when there are any. */
    private static int assertSameBlocks(String text, int from) {
        List<String> expected = regexSpans(PRIVATE_KEY_REGEX, text, from);
        List<String> actual = new ArrayList<>();
        PrivateKeyScanner.find(text, from, (s, e) -> actual.add(s + "-" + e));
        assertEquals(expected, actual, () -> "from " + from + " in text: " + text.replace("\n", "\\n"));
        return expected.isEmpty() ? 0 : 1;
    }

    /** From any position, inside a run of dashes too (a stream's search resumes where it got to). */
    @Test
    void privateKeyScannerFromAnyPositionFindsWhatTheRegexFindsFromThere() {
        var random = new Random(8);
        int matched = 0;
        for (int round = 0; round < 20_000; round++) {
            String text = keyText(random);
            matched += assertSameBlocks(text, random.nextInt(text.length() + 1));
        }
        assertTrue(matched > 500, "the generated texts contain blocks after the start: " + matched);
    }

    @Test
    void fakeSystemTurnPatternFindsTheSameSpansAsTheTemplate() {
        var heuristic = InjectionDetector.EXTRACTION.stream().filter(h -> h.name().equals("fake-system-turn")).findFirst()
                .orElseThrow();
        String template = "(?<![a-z0-9])" + heuristic.words().replace("_", "[^a-z0-9]{1,3}");
        assertTrue(template.contains(InjectionDetector.HASH_RUN), template);
        Pattern backtracking = Pattern.compile(template);
        Pattern linear = Pattern.compile(InjectionDetector.lowerRegex(heuristic));
        String[] pieces = {"#", "##", "###", " ", "-", "system", "sys", "a", "1", "<", ">", "/", "[", "]", "inst", "|", "im",
            "_", "start", "<|im_start|>"};
        var random = new Random(11);
        int matched = 0;
        for (int round = 0; round < 20_000; round++) {
            String text = generate(random, pieces, 1 + random.nextInt(16));
            List<String> expected = regexSpans(backtracking, text);
            assertEquals(expected, regexSpans(linear, text), () -> "text: " + text);
            matched += expected.isEmpty() ? 0 : 1;
        }
        assertTrue(matched > 500, "the generated texts contain fake system turns: " + matched);
    }
}
