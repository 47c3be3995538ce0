package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A probe started by literal words is passed over on a view whose char pairs ({@link CharPairs})
 * rule out each of its words; the scan reports exactly what searching every such view reported.
 */
class CharPairsTest {

    private static final List<String> PIECES = List.of(" ", "\n", "-", "_", ".", ":", "/", "@", "=", "é", "\u200b", "Ω",
            "a", "Z", "k", "sk", "gh", "p_", "A", "AK", "KI", "IA", "29", "ya", "eyJ", "ey", "J", "T", "3T",
            "Anton Corkery", "2026-11-08T06:21:26", "(305) 511-0715", "ask-", "IBAN FR83", "4644-0516-8042-0988",
            "AKIA", "ASIA", "ABIA", "ACCA", "A3TX", "AIza", "ya29.", "ghp_", "github_pat_", "glpat-", "xoxb-", "sk_live_",
            "sk-", "sk-proj-", "hf_", "npm_", "https://hooks.slack.com/services/T",
            "AKIAIOSFODNN7EXAMPLE", "AIzaSyA-1234567890abcdefghijklmnopqrstu", "ya29.a0AfH6SMBx7Yq2kQ9rT3vLw8ZpX1cN4eU6",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx");

    private static String randomText(Random random, int maxPieces) {
        var sb = new StringBuilder();
        for (int k = 1 + random.nextInt(maxPieces); k > 0; k--) {
            if (random.nextInt(5) == 0) {
                for (int run = random.nextInt(6); run >= 0; run--) {
                    sb.append((char) (32 + random.nextInt(95))); // any printable ASCII
                }
            } else {
                sb.append(PIECES.get(random.nextInt(PIECES.size())));
            }
        }
        return sb.toString();
    }

    @Test
    void aTextInWhichAWordOccursHoldsEveryPairOfIt() {
        var random = new Random(17);
        List<List<String>> wordLists = new ArrayList<>(List.of(BuiltinDetectors.TOKEN_PREFIXES,
                List.of("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), List.of("AIza"), List.of("ya29."), List.of("eyJ"),
                List.of("https://hooks.slack.com/services/T")));
        for (int k = 0; k < 40; k++) { // random words, one-char words among them
            List<String> words = new ArrayList<>();
            for (int w = 1 + random.nextInt(4); w > 0; w--) {
                var word = new StringBuilder();
                for (int c = 1 + random.nextInt(4); c > 0; c--) {
                    word.append((char) (32 + random.nextInt(95)));
                }
                words.add(word.toString());
            }
            wordLists.add(words);
        }
        List<Starts.Literals> all = wordLists.stream().map(Starts.Literals::new).toList();
        int occurring = 0;
        int passedOver = 0;
        for (int round = 0; round < 3000; round++) {
            String text = randomText(random, 30);
            CharPairs pairs = CharPairs.of(text.toCharArray(), text.length());
            for (Starts.Literals literals : all) {
                List<String> words = literals.words();
                boolean occurs = literals.indexIn(text, 0) >= 0;
                boolean may = literals.mayOccurIn(pairs);
                assertTrue(may || !occurs, words + " occur in '" + text + "' but its pairs rule them out");
                occurring += occurs ? 1 : 0;
                passedOver += may ? 0 : 1;
            }
        }
        assertTrue(occurring > 5_000 && passedOver > 50_000, "occurring " + occurring + ", passed over " + passedOver);
    }

    @Test
    void aLongTextIsNotReadForPairs() {
        char[] text = "AKIA".repeat(CharPairs.MAX_LENGTH).toCharArray();
        assertSame(CharPairs.ANY, CharPairs.of(text, text.length));
        assertTrue(new Starts.Literals(List.of("eyJ")).mayOccurIn(CharPairs.ANY));
    }

    @Test
    void literalProbesReportWhatSearchingEveryViewReported() {
        var random = new Random(23);
        List<PatternDetector> detectors = List.of((PatternDetector) BuiltinDetectors.cloudKey(),
                (PatternDetector) BuiltinDetectors.token(), (PatternDetector) BuiltinDetectors.jwt());
        int reported = 0;
        for (int round = 0; round < 3000; round++) {
            String original = randomText(random, round % 10 == 0 ? 400 : 30); // some longer than MAX_LENGTH
            for (PatternDetector detector : detectors) {
                List<Match> actual = new ArrayList<>();
                detector.scan(NormalizedText.of(original), actual::add);
                List<Match> expected = new ArrayList<>();
                searchingEveryView(detector).scan(NormalizedText.of(original), expected::add);
                assertEquals(described(expected), described(actual), detector.type() + " on '" + original + "'");
                reported += actual.size();
            }
        }
        assertTrue(reported > 1_000, "reported: " + reported);
    }

    /** The same detector with every probe's search begun whatever the view's pairs say. */
    private static PatternDetector searchingEveryView(PatternDetector detector) {
        List<PatternDetector.Probe> probes = detector.probes().stream()
                .map(p -> new PatternDetector.Probe(p.view(), new Unfiltered(p.finder()), p.weight(), p.gate(), p.narrowing()))
                .toList();
        return new PatternDetector(detector.type(), detector.defaultCategory(), detector.placeholder(), "", probes,
                detector.scorer());
    }

    private record Unfiltered(PatternDetector.Finder inner) implements PatternDetector.Finder {
        @Override
        public void find(String text, int from, PrivateKeyScanner.Sink sink) {
            inner.find(text, from, sink);
        }

        @Override
        public void find(NormalizedText text, View view, int from, PrivateKeyScanner.Sink sink) {
            inner.find(text, view, from, sink);
        }

        @Override
        public int openFrom(String text, int from) {
            return inner.openFrom(text, from);
        }
    }

    private static List<String> described(List<Match> matches) {
        return matches.stream().map(m -> m.start() + "-" + m.end() + " " + m.view() + " " + m.score() + " " + m.value()).toList();
    }
}
