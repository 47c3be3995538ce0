package io.cleargate.engine.embedded;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: argmax at temperature 0, otherwise
 * {@code softmax(logits / T)} restricted to the top k tokens and then to the smallest set whose
 * mass reaches top_p, sampled with a seeded generator (same seed, same logits, same tokens).
 */
public final class Sampler {

    /**
     * @param temperature 0 for greedy
     * @param topP        nucleus mass in (0, 1]
     * @param topK        0 for no limit
     */
    public record Options(double temperature, double topP, int topK) {
        public Options {
            if (!(temperature >= 0) || temperature > 100) {
                throw new IllegalArgumentException("temperature must be in [0, 100], was " + temperature);
            }
            if (!(topP > 0) || topP > 1) {
                throw new IllegalArgumentException("top_p must be in (0, 1], was " + topP);
            }
            if (topK < 0) {
                throw new IllegalArgumentException("top_k must be >= 0, was " + topK);
            }
        }

        public static final Options GREEDY = new Options(0, 1, 0);
    }

    private final Options options;
    private final SplittableRandom random;

    public Sampler(Options options, long seed) {
        this.options = options;
        this.random = new SplittableRandom(seed);
    }

    public int sample(float[] logits) {
        if (options.temperature() == 0) {
            return argmax(logits);
        }
        int n = logits.length;
        // Order tokens by logit, best first, and keep at most top_k of them.
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = options.topK() > 0 ? Math.min(options.topK(), n) : n;
        // Softmax of logits / T over the kept tokens (in double: probabilities of rare tokens matter for top_p).
        double max = logits[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        double t = Math.max(options.temperature(), 1e-5);
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[order[i]] - max) / t);
            sum += p[i];
        }
        // Nucleus: the shortest prefix whose probability reaches top_p.
        double mass = 0;
        int cut = keep;
        for (int i = 0; i < keep; i++) {
            mass += p[i] / sum;
            if (mass >= options.topP()) {
                cut = i + 1;
                break;
            }
        }
        double total = 0;
        for (int i = 0; i < cut; i++) {
            total += p[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < cut; i++) {
            r -= p[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[cut - 1];
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
