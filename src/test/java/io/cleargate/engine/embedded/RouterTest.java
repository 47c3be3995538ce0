package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.engine.embedded.model.ModelConfig;
import io.cleargate.engine.embedded.model.Router;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Expert selection on hand-computed examples. */
class RouterTest {

    private static ModelConfig config(String json) throws Exception {
        String base = """
                {"hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 1, "vocab_size": 10,
                 "kv_lora_rank": 4, "qk_rope_head_dim": 2, "qk_nope_head_dim": 2, "v_head_dim": 2, "intermediate_size": 4,
                 "moe_intermediate_size": 2, "n_routed_experts": 8, "num_experts_per_tok": 2, %s}""".formatted(json);
        return ModelConfig.parse(new ObjectMapper().readTree(base));
    }

    private static float logit(double sigmoid) {
        return (float) Math.log(sigmoid / (1 - sigmoid));
    }

    @Test
    void groupLimitedSelectionExcludesExpertsOfDroppedGroupsEvenWhenTheyScoreHigher() throws Exception {
        ModelConfig c = config("\"model_type\": \"deepseek_v3\", \"n_group\": 4, \"topk_group\": 2, \"norm_topk_prob\": true, \"routed_scaling_factor\": 2.5");
        // Groups of two experts: {0,1} {2,3} {4,5} {6,7}. Group score = sum of its top two.
        // Expert 6 has the single highest score, but group {6,7} sums to 0.9 + 0.05 = 0.95, below
        // groups {0,1} (0.5 + 0.6 = 1.1) and {2,3} (0.55 + 0.5 = 1.05); group {4,5} sums to 0.2.
        double[] s = {0.5, 0.6, 0.55, 0.5, 0.1, 0.1, 0.9, 0.05};
        float[] logits = new float[8];
        for (int i = 0; i < 8; i++) {
            logits[i] = logit(s[i]);
        }
        Router.Selection pick = new Router(c).select(logits, new float[8]);
        assertArrayEquals(new int[] {1, 2}, pick.experts());
        // Weights: unbiased scores renormalised, times the routed scaling factor.
        assertEquals(0.6 / 1.15 * 2.5, pick.weights()[0], 1e-5);
        assertEquals(0.55 / 1.15 * 2.5, pick.weights()[1], 1e-5);
    }

    @Test
    void correctionBiasSteersSelectionButNeverTheWeights() throws Exception {
        ModelConfig c = config("\"model_type\": \"deepseek_v3\", \"n_group\": 1, \"topk_group\": 1, \"norm_topk_prob\": false, \"routed_scaling_factor\": 1.0");
        float[] logits = new float[8];
        Arrays.fill(logits, logit(0.5));
        logits[0] = logit(0.7);
        logits[1] = logit(0.6);
        float[] bias = new float[8];
        bias[5] = 0.3f; // 0.5 + 0.3 beats 0.6 for selection, yet its weight stays 0.5
        Router.Selection pick = new Router(c).select(logits, bias);
        assertArrayEquals(new int[] {5, 0}, pick.experts());
        assertEquals(0.5, pick.weights()[0], 1e-6);
        assertEquals(0.7, pick.weights()[1], 1e-6);
    }

    @Test
    void softmaxGreedyRoutingOfV2UsesPlainTopKScaled() throws Exception {
        ModelConfig c = config("\"model_type\": \"deepseek_v2\", \"topk_method\": \"greedy\", \"routed_scaling_factor\": 2.0");
        float[] logits = {0, 0, 0, (float) Math.log(3), 0, 0, (float) Math.log(2), 0};
        Router.Selection pick = new Router(c).select(logits, null);
        assertArrayEquals(new int[] {3, 6}, pick.experts());
        assertEquals(3.0 / 11 * 2, pick.weights()[0], 1e-6);
        assertEquals(2.0 / 11 * 2, pick.weights()[1], 1e-6);
    }
}
