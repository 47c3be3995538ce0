package io.cleargate.refusal.detector;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints precision, recall and F1 per language on the dev split (the one the lexicon was tuned
 * on), the held-out test split and both, then the detector's cost per answer. Run by
 * bench/refusal/run.sh; needs only a JDK. With "--misses" it also lists the dev split's errors
 * (never the test split's: looking at those would turn it into a tuning set).
 */
public final class RefusalBench {

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 && !args[0].startsWith("--") ? Path.of(args[0]) : RefusalCorpus.defaultDir();
        boolean showMisses = List.of(args).contains("--misses");
        RefusalCorpus corpus = RefusalCorpus.load(dir);
        var scores = new RefusalScores();
        System.out.printf(Locale.ROOT, "Corpus: %d answers (%d decided by finish_reason alone)%n%n", corpus.items().size(),
                corpus.items().stream().filter(RefusalCorpus.Item::byFinishReason).count());
        List<RefusalScores.Miss> misses = RefusalScores.newMisses();
        table("dev split (lexicon tuned on it)", scores.score(corpus, i -> i.split().equals("dev"), misses));
        table("test split (held out)", scores.score(corpus, i -> i.split().equals("test"), null));
        table("whole corpus", scores.score(corpus, i -> true, null));
        System.out.printf(Locale.ROOT, "finish_reason rows with the exact kind: %.3f%n%n", scores.finishReasonAccuracy(corpus));
        if (showMisses) {
            for (var m : misses) {
                System.out.printf("MISS %s [%s/%s] got %s %.2f %s: %s%n", m.item().id(), m.item().category(), m.item().label(),
                        m.verdict().kind().id(), m.verdict().score(), m.verdict().cue(), m.item().text().replace('\n', ' '));
            }
        }
        cost(corpus);
    }

    private static void table(String title, Map<String, RefusalScores.Counts> counts) {
        System.out.println("### " + title);
        System.out.println("| language | answers | declined | precision | recall | F1 | kind exact (of declined) |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String lang : concat(RefusalScores.LANGUAGES, "all")) {
            var c = counts.get(lang);
            if (c == null) {
                continue;
            }
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %.3f | %.3f | %.3f | %.3f |%n", lang, c.total(), c.positives(),
                    c.precision(), c.recall(), c.f1(), c.positives() == 0 ? 1.0 : (double) c.kindRight() / c.positives());
        }
        System.out.println();
    }

    private static List<String> concat(List<String> list, String last) {
        var out = new java.util.ArrayList<>(list);
        out.add(last);
        return out;
    }

    /** Nanoseconds per answer and per character, over the corpus and over long answers. */
    private static void cost(RefusalCorpus corpus) {
        var detector = new RefusalDetector();
        List<String> texts = corpus.items().stream().map(RefusalCorpus.Item::text).toList();
        String longAnswer = String.join(" ", texts.subList(0, 60)).repeat(3);
        long sink = 0;
        for (int warm = 0; warm < 20; warm++) {
            for (String t : texts) {
                sink += detector.detect(t, "stop").end();
            }
        }
        int rounds = 50;
        long chars = 0;
        long t0 = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            for (String t : texts) {
                sink += detector.detect(t, "stop").end();
                chars += t.length();
            }
        }
        long corpusNanos = System.nanoTime() - t0;
        int longRounds = 2000;
        long t1 = System.nanoTime();
        for (int r = 0; r < longRounds; r++) {
            sink += detector.detect(longAnswer, "stop").end();
        }
        long longNanos = System.nanoTime() - t1;
        System.out.println("### cost (one thread, this machine, one run)");
        System.out.printf(Locale.ROOT, "corpus answers: %.1f µs per answer, %.0f ns per character%n",
                corpusNanos / 1e3 / (rounds * texts.size()), (double) corpusNanos / chars);
        System.out.printf(Locale.ROOT, "a %d-character answer (first %d read): %.1f µs per answer%n", longAnswer.length(),
                RefusalDetector.SCAN_LIMIT, longNanos / 1e3 / longRounds);
        if (sink == 42) {
            System.out.println();
        }
    }
}
