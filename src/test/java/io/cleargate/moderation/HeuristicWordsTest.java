package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The one pass that finds the injection heuristics' words answers what a search per word answers,
 * and each heuristic's anchor really stands within its window of every match's start.
 */
class HeuristicWordsTest {

    private static final List<String> WORDS = List.of("ignore", "no", "do", "instruction", "instructions", "the", "system",
            "sys", "prompt", "ab", "abc", "abcd", "bcd");

    @Test
    void findsWhetherEveryWordOccursAndWhereEachOwnersAnchorsBegin() {
        var random = new Random(21);
        List<List<String>> anchors = List.of(List.of("instruction", "prompt"), List.of("system", "sys"), List.of("abc", "bcd"),
                List.of());
        var words = new HeuristicWords(WORDS, anchors);
        List<String> pieces = new ArrayList<>(WORDS);
        pieces.addAll(List.of(" ", "a", "b", "c", "d", "x", "é", "-", "\n", "systemprompt", "abcbcd"));
        for (int round = 0; round < 3000; round++) {
            var sb = new StringBuilder();
            for (int k = random.nextInt(25); k > 0; k--) {
                sb.append(pieces.get(random.nextInt(pieces.size())));
            }
            String text = sb.toString();
            HeuristicWords.Found found = words.find(text);
            for (int w = 0; w < WORDS.size(); w++) {
                assertEquals(text.contains(WORDS.get(w)), found.present(w), WORDS.get(w) + " in '" + text + "'");
            }
            for (int o = 0; o < anchors.size(); o++) {
                List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < text.length(); i++) {
                    int at = i;
                    if (anchors.get(o).stream().anyMatch(a -> text.startsWith(a, at))) {
                        expected.add(i);
                    }
                }
                assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), found.anchors(o),
                        "anchors of " + anchors.get(o) + " in '" + text + "'");
            }
        }
    }

    @Test
    void refusesAnchorsItCannotFindInOnePass() {
        assertThrows(IllegalArgumentException.class, () -> new HeuristicWords(WORDS, List.of(List.of("no"))));
        assertThrows(IllegalArgumentException.class, () -> new HeuristicWords(WORDS, List.of(List.of("absent"))));
        assertThrows(IllegalArgumentException.class, () -> new HeuristicWords(List.of("Upper"), List.of()));
    }

    @Test
    void everyMatchOfEveryHeuristicHoldsAnAnchorWordWithinItsWindow() {
        var random = new Random(5);
        List<InjectionDetector.Heuristic> all = new ArrayList<>(InjectionDetector.INJECTION);
        all.addAll(InjectionDetector.EXTRACTION);
        for (InjectionDetector.Heuristic h : all) {
            if (h.name().equals("fake-system-turn")) {
                continue;
            }
            InjectionDetector.Anchor anchor = InjectionDetector.anchorOf(h.words());
            Pattern lower = Pattern.compile(InjectionDetector.lowerRegex(h));
            Pattern alnum = Pattern.compile(h.words().replace("_", ""));
            for (int round = 0; round < 300; round++) {
                String phrase = PrefilterTest.expand(h.words(), random).toLowerCase(java.util.Locale.ROOT);
                assertAnchored(lower, anchor, anchor.beforeOnLower(), "x " + phrase.replace(" ", "   ") + " y");
                String glued = phrase.replaceAll("[^a-z0-9]", "");
                assertTrue(assertAnchored(lower, anchor, anchor.beforeOnLower(), phrase) > 0, () -> h.name() + ": " + phrase);
                assertTrue(assertAnchored(alnum, anchor, anchor.beforeOnAlnum(), glued) > 0, () -> h.name() + ": " + glued);
            }
        }
    }

    private static int assertAnchored(Pattern p, InjectionDetector.Anchor anchor, int before, String text) {
        Matcher m = p.matcher(text);
        int matches = 0;
        while (m.find()) {
            int s = m.start();
            boolean held = false;
            for (int a = s; a <= Math.min(m.end(), s + before) && !held; a++) {
                int at = a;
                held = anchor.words().stream().anyMatch(w -> text.startsWith(w, at));
            }
            assertTrue(held, () -> p + " matched '" + text.substring(s, m.end()) + "' without " + anchor.words()
                    + " within " + before);
            matches++;
        }
        return matches;
    }
}
