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

    /**
     * With words that share a first three letters and are only asked for their presence
     * ("display", "disregard"), or share them with an anchor ("abc", "abcd"): a pass stops comparing
     * at a trigram once its words are all known present, unless one is an anchor.
     */
    private static final List<String> WORDS = List.of("ignore", "no", "do", "instruction", "instructions", "the", "system",
            "sys", "prompt", "ab", "abc", "abcd", "bcd", "display", "disregard");

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
            for (boolean wordStarts : new boolean[] {false, true}) {
                HeuristicWords.Found found = words.find(text, wordStarts);
                for (int w = 0; w < WORDS.size(); w++) {
                    String word = WORDS.get(w);
                    // words of one or two letters are looked up anywhere; longer ones at word starts when asked
                    boolean expected = wordStarts && word.length() >= 3 ? !wordStartsOf(text, List.of(word)).isEmpty()
                            : text.contains(word);
                    assertEquals(expected, found.present(w), word + " in '" + text + "'");
                }
                for (int o = 0; o < anchors.size(); o++) {
                    List<Integer> expected = new ArrayList<>();
                    for (int i = 0; i < text.length(); i++) {
                        int at = i;
                        if (anchors.get(o).stream().anyMatch(a -> text.startsWith(a, at)) && (!wordStarts || atWordStart(text, i))) {
                            expected.add(i);
                        }
                    }
                    assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(),
                            java.util.Arrays.copyOf(found.anchors(o), found.anchorCount(o)),
                            "anchors of " + anchors.get(o) + " in '" + text + "'" + (wordStarts ? " at word starts" : ""));
                }
            }
        }
    }

    /**
     * Whether some gate passes on the letters-only view, read from the clean view's chars, is what
     * a pass over the built view answers, for random gates over the words, on texts with
     * separators, digits, upper case and chars that fold or vanish.
     */
    @Test
    void answersFromTheCleanCharsWhetherAGatePassesOnTheLettersOnlyView() {
        var random = new Random(22);
        var words = new HeuristicWords(WORDS, List.of(List.of("instruction", "prompt")));
        List<String> pieces = new ArrayList<>(WORDS);
        pieces.addAll(List.of(" ", "a", "b", "c", "d", "x", "7", "é", "-", "\n", "İ", "\u212A", "Ａ", "\u200B", "S", "YS",
                "Tem", "i-g-n-o-r-e", "n_o", "d.o", "systemprompt", "abcbcd"));
        int passed = 0;
        List<List<int[]>> lastGates = null;
        for (int round = 0; round < 4000; round++) {
            var sb = new StringBuilder();
            for (int k = random.nextInt(20); k > 0; k--) {
                sb.append(pieces.get(random.nextInt(pieces.size())));
            }
            // the same gates twice in a row as often as not (what is known of them is kept per list),
            // now and then more gates than a bit mask of them holds (each gate then asked at each new
            // word), and now and then a gate without groups, which passes on every text
            List<List<int[]>> gates = round % 2 == 1 && lastGates != null ? lastGates : new ArrayList<>();
            for (int g = gates == lastGates ? 0 : round % 8 == 0 ? 65 + random.nextInt(6) : 1 + random.nextInt(3); g > 0; g--) {
                List<int[]> groups = new ArrayList<>();
                for (int k = round % 50 == 4 && g == 1 ? 0 : 1 + random.nextInt(3); k > 0; k--) {
                    groups.add(random.ints(1 + random.nextInt(3), 0, WORDS.size()).toArray());
                }
                gates.add(groups);
            }
            lastGates = gates;
            var normalized = NormalizedText.of(sb.toString());
            HeuristicWords.Found found = words.find(normalized.alnum().text);
            boolean expected = gates.stream().anyMatch(groups -> groups.stream()
                    .allMatch(group -> java.util.Arrays.stream(group).anyMatch(found::present)));
            assertEquals(expected, words.anyGatePasses(normalized.cleanChars(), normalized.clean.length(), gates),
                    "'" + sb + "'");
            passed += expected ? 1 : 0;
        }
        assertTrue(passed > 400 && passed < 3600, "both answers are met: " + passed);
    }

    /**
     * The lower-case view's words answered from the pass over the letters-only view
     * ({@link HeuristicWords#atWordStarts}) hold exactly the anchors the pass over the lower-case
     * view finds at word starts, and every word that pass finds present, on texts with upper case,
     * separators, whitespace runs, digits and chars that fold or vanish, long enough to cross the
     * views' marks.
     */
    @Test
    void theLowerCaseAnchorsFromTheLettersOnlyPassAreThoseOfThePassOverTheLowerCaseView() {
        var random = new Random(23);
        List<List<String>> anchors = List.of(List.of("instruction", "prompt"), List.of("system", "sys"), List.of("abc", "bcd"),
                List.of("ignore", "display"), List.of());
        var words = new HeuristicWords(WORDS, anchors);
        List<String> pieces = new ArrayList<>(WORDS);
        pieces.addAll(List.of(" ", "   ", "\t\n ", "a", "b", "c", "x", "7", "é", "-", "_", ".", "\n", "İ", "\u212A", "Ａ",
                "\u200B", "S", "YS", "Tem", "SYSTEM", "Prompt", "i-g-n-o-r-e", "sys tem", "ab-c", "systemprompt", "abcbcd", "ﬁ"));
        int anchorsFound = 0;
        for (int round = 0; round < 3000; round++) {
            var sb = new StringBuilder();
            for (int k = random.nextInt(round % 10 == 0 ? 400 : 30); k > 0; k--) {
                sb.append(pieces.get(random.nextInt(pieces.size())));
            }
            var normalized = NormalizedText.of(sb.toString());
            View lower = normalized.lower();
            HeuristicWords.Found expected = words.find(lower.text, true);
            HeuristicWords.Found derived = words.atWordStarts(words.find(normalized.alnum().text), lower.text.toCharArray(),
                    lower.length(), normalized::lowerIndexOfAlnum);
            for (int o = 0; o < anchors.size(); o++) {
                assertArrayEquals(java.util.Arrays.copyOf(expected.anchors(o), expected.anchorCount(o)),
                        java.util.Arrays.copyOf(derived.anchors(o), derived.anchorCount(o)),
                        "anchors of " + anchors.get(o) + " in '" + lower.text + "'");
                anchorsFound += expected.anchorCount(o);
            }
            for (int w = 0; w < WORDS.size(); w++) {
                if (expected.present(w)) {
                    assertTrue(derived.present(w), WORDS.get(w) + " in '" + lower.text + "'");
                }
            }
        }
        assertTrue(anchorsFound > 3000, anchorsFound + " anchors");
    }

    /** No ASCII lower-case letter or digit before {@code i}: where the lower-case view's regexes let a word begin. */
    private static boolean atWordStart(String text, int i) {
        return i == 0 || !Character.toString(text.charAt(i - 1)).matches("[a-z0-9]");
    }

    private static List<Integer> wordStartsOf(String text, List<String> words) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            int k = i;
            if (atWordStart(text, i) && words.stream().anyMatch(w -> text.startsWith(w, k))) {
                at.add(i);
            }
        }
        return at;
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
                assertAnchored(lower, anchor, anchor.beforeOnLower(), "x " + phrase.replace(" ", "   ") + " y", true);
                String glued = phrase.replaceAll("[^a-z0-9]", "");
                assertTrue(assertAnchored(lower, anchor, anchor.beforeOnLower(), phrase, true) > 0, () -> h.name() + ": " + phrase);
                assertTrue(assertAnchored(alnum, anchor, anchor.beforeOnAlnum(), glued, false) > 0, () -> h.name() + ": " + glued);
                for (List<String> group : InjectionDetector.requiredWords(h.words())) {
                    // the lower-case view's gates look for words at word starts only: every match holds one there
                    Matcher m = lower.matcher(phrase);
                    while (m.find()) {
                        String span = phrase.substring(0, m.end());
                        int start = m.start();
                        assertTrue(wordStartsOf(span, group.stream().filter(w -> w.length() >= 3).toList()).stream()
                                .anyMatch(i -> i >= start) || group.stream().anyMatch(w -> w.length() < 3),
                                () -> h.name() + " matched '" + phrase + "' without a word of " + group + " at a word start");
                    }
                }
            }
        }
    }

    private static int assertAnchored(Pattern p, InjectionDetector.Anchor anchor, int before, String text, boolean wordStarts) {
        Matcher m = p.matcher(text);
        int matches = 0;
        while (m.find()) {
            int s = m.start();
            boolean held = false;
            for (int a = s; a <= Math.min(m.end(), s + before) && !held; a++) {
                int at = a;
                held = anchor.words().stream().anyMatch(w -> text.startsWith(w, at)) && (!wordStarts || atWordStart(text, at));
            }
            assertTrue(held, () -> p + " matched '" + text.substring(s, m.end()) + "' without " + anchor.words()
                    + " within " + before);
            matches++;
        }
        return matches;
    }
}
