package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A pattern detector scores and narrows a hit of a squeezed view (compact, alnum) only once it
 * knows no exact hit overlaps it; what it reports is what scoring and narrowing every hit first,
 * then dropping the covered ones, reported (the way it went before).
 */
class SqueezedHitsTest {

    private static final List<String> PIECES = List.of("jane", "doe", ".", " ", "  ", "@", "exa", "mple", "com", "co", "uk",
            "+news", "*", "Write to ", "j a n e", "\n", "x", "-", "ghp_", "abcdefghijklmnopqrstuvwxyz0123456789",
            "AKIA", "ABCDEFGHIJKLMNOP", "eyJhbGciOiJIUzI1NiJ9", "é", "\u200b");

    @Test
    void reportsWhatScoringAndNarrowingEverySqueezedHitFirstReported() {
        var random = new Random(31);
        List<PatternDetector> detectors = List.of((PatternDetector) BuiltinDetectors.email(),
                (PatternDetector) BuiltinDetectors.token(), (PatternDetector) BuiltinDetectors.cloudKey(),
                (PatternDetector) BuiltinDetectors.jwt());
        int squeezedReported = 0;
        for (int round = 0; round < 3000; round++) {
            var sb = new StringBuilder();
            for (int k = 1 + random.nextInt(20); k > 0; k--) {
                sb.append(PIECES.get(random.nextInt(PIECES.size())));
            }
            String original = sb.toString();
            for (PatternDetector detector : detectors) {
                List<Match> actual = new ArrayList<>();
                detector.scan(NormalizedText.of(original), actual::add);
                List<Match> expected = scoredFirst(detector, NormalizedText.of(original));
                assertEquals(spans(expected), spans(actual), detector.type() + " on '" + original + "'");
                squeezedReported += (int) actual.stream().filter(m -> m.view().equals("compact")).count();
            }
        }
        assertTrue(squeezedReported > 100, "squeezed hits reported: " + squeezedReported);
    }

    /** The scan as it went before: every hit scored (and narrowed) as found, covered squeezed ones dropped last. */
    private static List<Match> scoredFirst(PatternDetector detector, NormalizedText text) {
        List<Match> exact = new ArrayList<>();
        List<Match> squeezed = new ArrayList<>();
        List<Match> narrowedSqueezed = new ArrayList<>();
        for (PatternDetector.Probe probe : detector.probes()) {
            View view = text.view(probe.view());
            if (!probe.mayMatch(view.text)) {
                continue;
            }
            boolean isExact = view.name.equals("clean") || view.name.equals("lower");
            probe.finder().find(text, view, 0, (s, e) -> {
                if (e <= s) {
                    return;
                }
                String candidate = view.text.substring(s, e);
                double score = detector.scorer().score(candidate, view.text, s, e);
                if (score >= 0) {
                    Match m = new Match(view.originalStart(s), view.originalEnd(e - 1), Math.min(1.0, score * probe.weight()),
                            view.name, "", candidate);
                    Match narrowed = narrowed(text, view, probe, m, s, e);
                    if (isExact) {
                        exact.add(narrowed);
                    } else {
                        squeezed.add(m);
                        narrowedSqueezed.add(narrowed);
                    }
                }
            });
        }
        List<Match> out = new ArrayList<>(exact);
        var covered = new PatternDetector.Overlaps(exact);
        for (int i = 0; i < squeezed.size(); i++) {
            if (!covered.overlaps(squeezed.get(i).start(), squeezed.get(i).end())) {
                out.add(narrowedSqueezed.get(i));
            }
        }
        return out;
    }

    private static Match narrowed(NormalizedText text, View view, PatternDetector.Probe probe, Match m, int s, int e) {
        if (probe.narrowing() == null) {
            return m;
        }
        int from = probe.narrowing().start(text, view, s, e);
        return from == s ? m : new Match(view.originalStart(from), m.end(), m.score(), m.view(), m.pattern(),
                view.text.substring(from, e));
    }

    /** A match without its pattern description (the same for every match of a detector). */
    private static List<String> spans(List<Match> matches) {
        return matches.stream().map(m -> m.start() + "-" + m.end() + " " + m.score() + " " + m.view() + " " + m.value()).toList();
    }
}
