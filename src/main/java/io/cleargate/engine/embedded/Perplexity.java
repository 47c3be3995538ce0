package io.cleargate.engine.embedded;

import io.cleargate.engine.embedded.model.Model;
import io.cleargate.engine.embedded.model.Session;

/**
 * Perplexity of a model on a token sequence: exp of the mean negative log-likelihood of each token
 * given the ones before it (computed in double from batched logits). Used to put a number on what
 * a weight format costs in quality, on a fixed text, against the checkpoint as stored.
 */
public final class Perplexity {

    /** Perplexity, and the fraction of positions where a second model's top token agrees with the first. */
    public record Comparison(double reference, double candidate, double top1Agreement) {}

    private Perplexity() {}

    public static double of(Model model, int[] ids) {
        return nll(logits(model, ids), ids);
    }

    public static Comparison compare(Model reference, Model candidate, int[] ids) {
        float[][] a = logits(reference, ids);
        float[][] b = logits(candidate, ids);
        int agree = 0;
        for (int t = 0; t < ids.length - 1; t++) {
            if (Sampler.argmax(a[t]) == Sampler.argmax(b[t])) {
                agree++;
            }
        }
        return new Comparison(nll(a, ids), nll(b, ids), (double) agree / (ids.length - 1));
    }

    private static float[][] logits(Model model, int[] ids) {
        if (ids.length < 2) {
            throw new IllegalArgumentException("perplexity needs at least two tokens");
        }
        return model.logitsAt(model.newSession(ids.length, Session.Form.ABSORBED), ids);
    }

    private static double nll(float[][] logits, int[] ids) {
        double total = 0;
        for (int t = 0; t < ids.length - 1; t++) {
            float[] row = logits[t];
            double max = Double.NEGATIVE_INFINITY;
            for (float v : row) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : row) {
                sum += Math.exp(v - max);
            }
            total += max + Math.log(sum) - row[ids[t + 1]];
        }
        return Math.exp(total / (ids.length - 1));
    }
}
