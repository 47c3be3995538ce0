package io.cleargate.engine.embedded;

import io.cleargate.engine.embedded.model.Model;
import io.cleargate.engine.embedded.model.Session;

/**
 * Perplexity of a model on a token sequence: exp of the mean negative log-likelihood of each token
 * given the ones before it (computed in double from batched logits). Used to put a number on what
 * a weight format costs in quality, on a fixed text, against the checkpoint as stored.
 */
public final class Perplexity {

    /**
     * Perplexity of both models, the fraction of positions where the candidate's top token agrees with
     * the reference's, and the mean KL divergence KL(reference || candidate) of their next-token
     * distributions in nats: a measure of the change that still means something when the weights are
     * random and the perplexity itself is near the vocabulary size.
     */
    public record Comparison(double reference, double candidate, double top1Agreement, double meanKl) {}

    private Perplexity() {}

    public static double of(Model model, int[] ids) {
        return nll(logits(model, ids), ids);
    }

    public static Comparison compare(Model reference, Model candidate, int[] ids) {
        float[][] a = logits(reference, ids);
        float[][] b = logits(candidate, ids);
        int agree = 0;
        double kl = 0;
        for (int t = 0; t < ids.length - 1; t++) {
            if (Sampler.argmax(a[t]) == Sampler.argmax(b[t])) {
                agree++;
            }
            kl += klDivergence(a[t], b[t]);
        }
        int n = ids.length - 1;
        return new Comparison(nll(a, ids), nll(b, ids), (double) agree / n, kl / n);
    }

    private static float[][] logits(Model model, int[] ids) {
        if (ids.length < 2) {
            throw new IllegalArgumentException("perplexity needs at least two tokens");
        }
        return model.logitsAt(model.newSession(ids.length, Session.Form.ABSORBED), ids);
    }

    /** KL(softmax(p) || softmax(q)) in nats, in double. */
    static double klDivergence(float[] p, float[] q) {
        double lp = logSumExp(p);
        double lq = logSumExp(q);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            double logP = p[i] - lp;
            kl += Math.exp(logP) * (logP - (q[i] - lq));
        }
        return Math.max(0, kl);
    }

    private static double logSumExp(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : row) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    private static double nll(float[][] logits, int[] ids) {
        double total = 0;
        for (int t = 0; t < ids.length - 1; t++) {
            total += logSumExp(logits[t]) - logits[t][ids[t + 1]];
        }
        return Math.exp(total / (ids.length - 1));
    }
}
