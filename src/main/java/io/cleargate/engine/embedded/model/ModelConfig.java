package io.cleargate.engine.embedded.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The architecture of a DeepSeek-V2/V3 checkpoint, read from Hugging Face's config.json field names.
 *
 * @param modelType              deepseek_v2 or deepseek_v3 (decides the V2 routing-weight quirk)
 * @param qLoraRank              0 when the model uses a full q_proj (V2-Lite)
 * @param firstKDenseReplace     layers below this index use a dense MLP
 * @param moeLayerFreq           every moeLayerFreq-th layer after that is MoE (1 for every published model)
 * @param topkMethod             greedy, group_limited_greedy or noaux_tc
 * @param ropeInterleave         rotate adjacent pairs (the official layout) rather than halves
 * @param rope                   base frequency plus optional YaRN scaling
 * @param eosTokenIds            every id that ends generation
 * @param quantization           FP8 block quantization of the linear weights (quantization_config), or null
 */
public record ModelConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int moeIntermediateSize,
        int numLayers,
        int firstKDenseReplace,
        int moeLayerFreq,
        int numHeads,
        int qLoraRank,
        int kvLoraRank,
        int qkNopeHeadDim,
        int qkRopeHeadDim,
        int vHeadDim,
        int nRoutedExperts,
        int nSharedExperts,
        int numExpertsPerTok,
        int nGroup,
        int topkGroup,
        ScoringFunc scoringFunc,
        String topkMethod,
        boolean normTopkProb,
        float routedScalingFactor,
        float rmsNormEps,
        boolean ropeInterleave,
        Rope rope,
        int maxPositionEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        boolean tieWordEmbeddings,
        Fp8Blocks quantization) {

    public enum ScoringFunc { SOFTMAX, SIGMOID }

    /**
     * DeepSeek-V3's release format: {@code quant_method: fp8, fmt: e4m3, weight_block_size: [r, c]}.
     * Activations stay f32 here (the release's "dynamic" FP8 activations are a GPU kernel detail):
     * the engine computes what the dequantized weights compute.
     */
    public record Fp8Blocks(int blockRows, int blockCols) {}

    /**
     * Rotary embedding parameters. {@code yarn} is null for plain RoPE.
     */
    public record Rope(double theta, Yarn yarn) {}

    /** YaRN context extension, field for field as in rope_scaling. attentionFactor NaN means "derive it". */
    public record Yarn(double factor, int originalMaxPositionEmbeddings, double betaFast, double betaSlow,
                       double mscale, double mscaleAllDim, double attentionFactor, boolean truncate) {}

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        require(hiddenSize > 0 && numLayers > 0 && numHeads > 0 && vocabSize > 0, "sizes must be positive");
        require(kvLoraRank > 0, "kv_lora_rank must be positive (MLA needs a latent)");
        require(qkRopeHeadDim % 2 == 0, "qk_rope_head_dim must be even");
        require(nRoutedExperts == 0 || numExpertsPerTok <= nRoutedExperts, "num_experts_per_tok exceeds n_routed_experts");
        require(nGroup >= 1 && (nRoutedExperts == 0 || nRoutedExperts % nGroup == 0), "n_routed_experts must divide into n_group groups");
        require(moeLayerFreq == 1, "moe_layer_freq other than 1 is not supported");
        require(topkGroup >= 1 && topkGroup <= nGroup, "topk_group must be within 1..n_group");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("config.json: " + message);
        }
    }

    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    /** Whether layer {@code layer} has a mixture of experts (otherwise a dense SwiGLU MLP). */
    public boolean isMoeLayer(int layer) {
        // transformers ignores moe_layer_freq (every published model has 1); so do we, beyond rejecting other values.
        return nRoutedExperts > 0 && layer >= firstKDenseReplace;
    }

    /** Values cached per token per layer by the absorbed form: the latent plus the shared rope key. */
    public int latentCacheWidth() {
        return kvLoraRank + qkRopeHeadDim;
    }

    /** Values a naive per-head cache would hold per token per layer (keys and values of every head). */
    public int naiveCacheWidth() {
        return numHeads * (qkHeadDim() + vHeadDim);
    }

    public static ModelConfig load(Path dir) {
        try {
            return parse(new ObjectMapper().readTree(Files.readString(dir.resolve("config.json"))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve("config.json"), e);
        }
    }

    public static ModelConfig parse(JsonNode c) {
        int heads = c.path("num_attention_heads").asInt();
        String modelType = c.path("model_type").asText("deepseek_v3");
        boolean v3 = modelType.equals("deepseek_v3");
        if (c.path("attention_bias").asBoolean(false) || c.path("mlp_bias").asBoolean(false)) {
            throw new IllegalArgumentException("config.json: attention_bias / mlp_bias are not supported");
        }
        if (!c.path("hidden_act").asText("silu").equals("silu")) {
            throw new IllegalArgumentException("config.json: only hidden_act silu is supported");
        }
        int ropeDim = c.path("qk_rope_head_dim").asInt(64);
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = c.path("eos_token_id");
        if (eosNode.isArray()) {
            eosNode.forEach(n -> eos.add(n.asInt()));
        } else if (eosNode.isInt()) {
            eos.add(eosNode.asInt());
        }
        return new ModelConfig(
                modelType,
                c.path("vocab_size").asInt(),
                c.path("hidden_size").asInt(),
                c.path("intermediate_size").asInt(),
                c.path("moe_intermediate_size").asInt(0),
                c.path("num_hidden_layers").asInt(),
                c.path("first_k_dense_replace").asInt(0),
                Math.max(1, c.path("moe_layer_freq").asInt(1)),
                heads,
                c.path("q_lora_rank").isNull() ? 0 : c.path("q_lora_rank").asInt(0),
                c.path("kv_lora_rank").asInt(),
                c.path("qk_nope_head_dim").asInt(128),
                ropeDim,
                c.path("v_head_dim").asInt(128),
                c.path("n_routed_experts").isNull() ? 0 : c.path("n_routed_experts").asInt(0),
                c.path("n_shared_experts").isNull() ? 0 : c.path("n_shared_experts").asInt(0),
                c.path("num_experts_per_tok").isNull() ? 0 : c.path("num_experts_per_tok").asInt(0),
                Math.max(1, c.path("n_group").asInt(1)),
                Math.max(1, c.path("topk_group").asInt(1)),
                ScoringFunc.valueOf(c.path("scoring_func").asText(v3 ? "sigmoid" : "softmax").toUpperCase(Locale.ROOT)),
                c.path("topk_method").asText(v3 ? "noaux_tc" : "greedy"),
                c.path("norm_topk_prob").asBoolean(false),
                (float) c.path("routed_scaling_factor").asDouble(1.0),
                (float) c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_interleave").asBoolean(true),
                parseRope(c),
                c.path("max_position_embeddings").asInt(4096),
                c.path("bos_token_id").asInt(0),
                eos,
                c.path("tie_word_embeddings").asBoolean(false),
                parseQuantization(c.path("quantization_config")));
    }

    private static Fp8Blocks parseQuantization(JsonNode q) {
        if (!q.isObject()) {
            return null;
        }
        String method = q.path("quant_method").asText("");
        String fmt = q.path("fmt").asText("e4m3");
        if (!method.equals("fp8") || !fmt.equals("e4m3")) {
            throw new IllegalArgumentException("config.json: quantization_config quant_method " + method + " fmt " + fmt
                    + " is not supported (fp8 e4m3 with block scales is)");
        }
        JsonNode block = q.path("weight_block_size");
        if (!block.isArray() || block.size() != 2 || block.get(0).asInt() <= 0 || block.get(1).asInt() <= 0) {
            throw new IllegalArgumentException("config.json: quantization_config needs weight_block_size [rows, cols], got " + block);
        }
        return new Fp8Blocks(block.get(0).asInt(), block.get(1).asInt());
    }

    /**
     * Hub checkpoints carry rope_theta and rope_scaling; transformers 5 writes rope_parameters (theta
     * and scaling in one object) instead. Read whichever is present.
     */
    private static Rope parseRope(JsonNode c) {
        JsonNode params = c.path("rope_parameters");
        JsonNode scaling = c.path("rope_scaling");
        double theta = c.path("rope_theta").asDouble(params.path("rope_theta").asDouble(10000.0));
        JsonNode yarnNode = scaling.isObject() ? scaling : params;
        String type = yarnNode.path("rope_type").asText(yarnNode.path("type").asText("default"));
        if (!yarnNode.isObject() || !type.equals("yarn")) {
            if (yarnNode.isObject() && !type.equals("default")) {
                throw new IllegalArgumentException("config.json: unsupported rope type " + type);
            }
            return new Rope(theta, null);
        }
        int maxPos = c.path("max_position_embeddings").asInt(4096);
        int original = yarnNode.path("original_max_position_embeddings").asInt(maxPos);
        Yarn yarn = new Yarn(
                // Without an explicit factor, transformers derives it from the two context lengths.
                yarnNode.hasNonNull("factor") ? yarnNode.path("factor").asDouble() : (double) maxPos / original,
                original,
                yarnNode.path("beta_fast").asDouble(0) != 0 ? yarnNode.path("beta_fast").asDouble() : 32.0,
                yarnNode.path("beta_slow").asDouble(0) != 0 ? yarnNode.path("beta_slow").asDouble() : 1.0,
                yarnNode.path("mscale").asDouble(0.0),
                yarnNode.path("mscale_all_dim").asDouble(0.0),
                yarnNode.hasNonNull("attention_factor") ? yarnNode.path("attention_factor").asDouble() : Double.NaN,
                yarnNode.path("truncate").asBoolean(true));
        return new Rope(theta, yarn);
    }
}
