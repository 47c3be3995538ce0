package io.cleargate.refusal.detector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Precision, recall and F1 of the detector on the corpus, per language. The positive class is
 * "the model declined" (refusal, deflection or partial answer); rows decided by finish_reason
 * alone are scored apart, as the share whose kind is exactly right.
 */
final class RefusalScores {

    static final List<String> LANGUAGES = List.of("en", "zh", "de", "fr", "es", "ja");

    record Counts(int tp, int fp, int fn, int tn, int kindRight, int positives) {
        double precision() {
            return tp + fp == 0 ? 1 : (double) tp / (tp + fp);
        }

        double recall() {
            return tp + fn == 0 ? 1 : (double) tp / (tp + fn);
        }

        double f1() {
            double p = precision();
            double r = recall();
            return p + r == 0 ? 0 : 2 * p * r / (p + r);
        }

        int total() {
            return tp + fp + fn + tn;
        }
    }

    /** A wrong verdict, for the error listing of the dev split. */
    record Miss(RefusalCorpus.Item item, RefusalVerdict verdict) {}

    private final RefusalDetector detector = new RefusalDetector();

    /** Counts per language over the rows {@code filter} keeps; key "all" sums every language. */
    Map<String, Counts> score(RefusalCorpus corpus, Predicate<RefusalCorpus.Item> filter, List<Miss> misses) {
        Map<String, int[]> raw = new TreeMap<>();
        for (var item : corpus.items()) {
            if (!filter.test(item) || item.byFinishReason()) {
                continue;
            }
            RefusalVerdict v = detector.detect(item.text(), item.finishReason());
            boolean predicted = v.declined();
            for (String key : List.of(item.lang(), "all")) {
                int[] c = raw.computeIfAbsent(key, k -> new int[6]);
                c[predicted && item.declined() ? 0 : predicted ? 1 : item.declined() ? 2 : 3]++;
                if (item.declined()) {
                    c[5]++;
                    c[4] += v.kind().id().equals(item.label()) ? 1 : 0;
                }
            }
            if (predicted != item.declined() && misses != null) {
                misses.add(new Miss(item, v));
            }
        }
        Map<String, Counts> out = new TreeMap<>();
        raw.forEach((k, c) -> out.put(k, new Counts(c[0], c[1], c[2], c[3], c[4], c[5])));
        return out;
    }

    /** Share of the finish_reason rows (content_filter, empty answers) whose kind is exactly right. */
    double finishReasonAccuracy(RefusalCorpus corpus) {
        int right = 0;
        int all = 0;
        for (var item : corpus.items()) {
            if (item.byFinishReason()) {
                all++;
                right += detector.detect(item.text(), item.finishReason()).kind().id().equals(item.label()) ? 1 : 0;
            }
        }
        return all == 0 ? 1 : (double) right / all;
    }

    static List<Miss> newMisses() {
        return new ArrayList<>();
    }
}
