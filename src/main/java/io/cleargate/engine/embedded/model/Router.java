package io.cleargate.engine.embedded.model;

import java.util.Arrays;

/**
 * DeepSeekMoE expert selection for one token: score every routed expert, pick the top k (within
 * the best groups), and weight the picks.
 */
public final class Router {

    /** The experts chosen for a token and the weight each output is scaled by. */
    public record Selection(int[] experts, float[] weights) {}

    private final ModelConfig config;

    public Router(ModelConfig config) {
        this.config = config;
    }

    /**
     * @param logits router logits {@code gate.weight . x}, one per routed expert (f32)
     * @param bias   e_score_correction_bias, or null; it steers selection and never enters the weights
     */
    public Selection select(float[] logits, float[] bias) {
        int e = logits.length;
        int k = config.numExpertsPerTok();
        // 1. Scores: softmax over experts (V2) or an independent sigmoid per expert (V3).
        float[] scores = config.scoringFunc() == ModelConfig.ScoringFunc.SOFTMAX ? softmax(logits) : sigmoid(logits);
        // 2. Selection scores: scores plus the auxiliary-loss-free correction bias.
        float[] choice = scores.clone();
        if (bias != null) {
            for (int i = 0; i < e; i++) {
                choice[i] += bias[i];
            }
        }
        // 3. Group limit: rank groups of experts and exclude every expert outside the best topk_group groups.
        //    transformers' deepseek_v3 router always applies the group limit (top-2 sums); deepseek_v2
        //    applies it only for topk_method group_limited_greedy (group max).
        boolean v3 = config.modelType().equals("deepseek_v3");
        if (config.nGroup() > 1 && (v3 || !config.topkMethod().equals("greedy"))) {
            maskWeakGroups(choice, v3 || bias != null || config.topkMethod().equals("noaux_tc"));
        }
        // 4. Top k by selection score; weights come from the unbiased scores.
        int[] experts = topK(choice, k);
        float[] weights = new float[k];
        float sum = 0f;
        for (int j = 0; j < k; j++) {
            weights[j] = scores[experts[j]];
            sum += weights[j];
        }
        // 5. Optional renormalisation, then the routed scaling factor.
        boolean normalise = config.normTopkProb() && k > 1;
        for (int j = 0; j < k; j++) {
            if (normalise) {
                weights[j] /= sum + 1e-20f;
            }
            weights[j] *= config.routedScalingFactor();
        }
        return new Selection(experts, weights);
    }

    /** Group score is the sum of the group's two best selection scores (noaux_tc) or its best one. */
    private void maskWeakGroups(float[] choice, boolean topTwoSum) {
        int groups = config.nGroup();
        int size = choice.length / groups;
        float[] groupScore = new float[groups];
        for (int g = 0; g < groups; g++) {
            float[] members = Arrays.copyOfRange(choice, g * size, (g + 1) * size);
            int[] best = topK(members, Math.min(topTwoSum ? 2 : 1, size));
            float s = 0f;
            for (int i : best) {
                s += members[i];
            }
            groupScore[g] = s;
        }
        boolean[] keep = new boolean[groups];
        for (int g : topK(groupScore, config.topkGroup())) {
            keep[g] = true;
        }
        for (int g = 0; g < groups; g++) {
            if (!keep[g]) {
                Arrays.fill(choice, g * size, (g + 1) * size, Float.NEGATIVE_INFINITY);
            }
        }
    }

    /** Indices of the k largest values, largest first; ties go to the lower index. */
    static int[] topK(float[] values, int k) {
        int[] best = new int[k];
        boolean[] taken = new boolean[values.length];
        for (int j = 0; j < k; j++) {
            int arg = -1;
            for (int i = 0; i < values.length; i++) {
                if (!taken[i] && (arg < 0 || values[i] > values[arg])) {
                    arg = i;
                }
            }
            taken[arg] = true;
            best[j] = arg;
        }
        return best;
    }

    static float[] softmax(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        float[] out = new float[x.length];
        float sum = 0f;
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) Math.exp(x[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < x.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    static float[] sigmoid(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
        }
        return out;
    }
}
