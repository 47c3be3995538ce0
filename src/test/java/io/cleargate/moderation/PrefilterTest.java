package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The cheap literal gates in front of the regexes never hide a text the regex would match. */
class PrefilterTest {

    /**
     * Expands a heuristic word template into one random phrase it matches: groups pick a random
     * alternative, optional parts are kept or dropped at random, "_" becomes a random separator.
     */
    static String expand(String t, Random random) {
        var out = new StringBuilder();
        int i = 0;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c == '(') {
                int close = close(t, i);
                boolean optional = close + 1 < t.length() && t.charAt(close + 1) == '?';
                List<String> alternatives = split(t.substring(i + 1, close));
                if (!optional || random.nextBoolean()) {
                    out.append(expand(alternatives.get(random.nextInt(alternatives.size())), random));
                }
                i = close + (optional ? 2 : 1);
            } else if (c == '_') {
                out.append(List.of(" ", "-", ". ", " * ").get(random.nextInt(4)));
                i++;
            } else if (i + 1 < t.length() && t.charAt(i + 1) == '?') {
                if (random.nextBoolean()) {
                    out.append(c);
                }
                i += 2;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int close(String t, int open) {
        int depth = 0;
        for (int k = open; ; k++) {
            if (t.charAt(k) == '(') {
                depth++;
            } else if (t.charAt(k) == ')' && --depth == 0) {
                return k;
            }
        }
    }

    private static List<String> split(String body) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int k = 0; k <= body.length(); k++) {
            char c = k < body.length() ? body.charAt(k) : '|';
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == '|' && depth == 0) {
                parts.add(body.substring(start, k));
                start = k + 1;
            }
        }
        return parts;
    }

    @Test
    void everyPhraseAnInjectionHeuristicDescribesIsStillFoundThroughThePrefilter() {
        var random = new Random(42);
        int checked = 0;
        for (var detector : List.of(InjectionDetector.injection(), InjectionDetector.extraction())) {
            var heuristics = detector.type().equals("injection") ? InjectionDetector.INJECTION : InjectionDetector.EXTRACTION;
            for (var h : heuristics) {
                if (h.name().equals("fake-system-turn")) {
                    continue; // not a word template; it has no pre-filter
                }
                for (int n = 0; n < 300; n++) {
                    String phrase = expand(h.words(), random);
                    String text = "Well. " + phrase + " thanks";
                    List<Match> found = new ArrayList<>();
                    detector.scan(NormalizedText.of(text), found::add);
                    assertTrue(found.stream().anyMatch(m -> m.pattern().equals("heuristic " + h.name())),
                            h.name() + " missed: " + text);
                    String glued = "x " + phrase.replaceAll("[^a-z]", "") + " y";
                    found.clear();
                    detector.scan(NormalizedText.of(glued), found::add);
                    assertTrue(found.stream().anyMatch(m -> m.pattern().equals("heuristic " + h.name())),
                            h.name() + " missed without separators: " + glued);
                    checked++;
                }
            }
        }
        assertTrue(checked > 2000);
    }

    @Test
    void theInjectionPrefilterSkipsOrdinaryProse() {
        List<Match> found = new ArrayList<>();
        InjectionDetector.injection().scan(NormalizedText.of("Open the settings page and set the retry count."), found::add);
        assertTrue(found.isEmpty());
        assertFalse(InjectionDetector.requiredWords("(ignore|forget)_(previous|prior)_(instructions?|rules)").isEmpty());
        assertTrue(InjectionDetector.requiredWords("(<_?/?_?system_?>|\\[_?inst_?\\])").isEmpty());
    }

    /** Texts whose only trigger comes from folding (fullwidth digits and at-sign) or has no digit. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "write to jane.doe\uFF20example.com today | pii-email",
            "card \uFF14\uFF11\uFF11\uFF11 1111 1111 1111 ok | pii-card",
            "SSN: \uFF11\uFF12\uFF13-45-6789 | pii-ssn",
            "host fe80:abcd::beef:cafe up | pii-ip",
            "host \uFF11\uFF19\uFF12.168.1.20 up | pii-ip",
            "pay to DE\uFF18\uFF19 3704 0044 0532 0130 00 now | pii-iban",
    })
    void gatedDetectorsStillSeeFoldedOrDigitFreeForms(String text, String rule) {
        assertTrue(ModerationFixtures.hits("default", Verdict.Direction.OUTPUT, text).contains(rule),
                rule + " not found in " + text);
    }
}
