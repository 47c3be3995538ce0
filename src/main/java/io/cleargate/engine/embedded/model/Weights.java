package io.cleargate.engine.embedded.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every weight of the model, as views of the mapped checkpoint. Names follow Hugging Face's
 * DeepSeek-V2/V3 layout ({@code model.layers.N.self_attn.kv_a_proj_with_mqa.weight}, ...).
 * Routed experts may be stored one module per expert ({@code mlp.experts.J.gate_proj.weight}) or
 * fused ({@code mlp.experts.gate_up_proj [E, 2I, D]}, {@code mlp.experts.down_proj [E, D, I]});
 * both become the same {@link Mlp} views. Extra layers beyond num_hidden_layers (DeepSeek-V3's
 * multi-token-prediction module) are ignored.
 *
 * <p>In DeepSeek-V3's FP8 release a linear weight {@code X.weight} is F8_E4M3 beside an f32
 * {@code X.weight_scale_inv}; it stays FP8 in memory and the kernels apply the block scales.
 * Embeddings and norms must not be FP8 (they are bf16 in the release).
 */
public record Weights(Tensor embed, List<Layer> layers, Tensor finalNorm, Matrix lmHead) {

    /** One transformer block. {@code mlp} is set for dense layers, {@code moe} for expert layers. */
    public record Layer(Tensor inputNorm, Attention attention, Tensor postAttentionNorm, Mlp mlp, Moe moe) {}

    /**
     * Multi-head latent attention. With a low-rank query, {@code qA}, {@code qANorm} and {@code qB}
     * are set and {@code q} is null; otherwise only {@code q}.
     */
    public record Attention(Matrix q, Matrix qA, Tensor qANorm, Matrix qB,
                            Matrix kvA, Tensor kvANorm, Matrix kvB, Matrix o) {
        public boolean lowRankQuery() {
            return q == null;
        }
    }

    /** A SwiGLU feed-forward: {@code down(silu(gate x) * up x)}. */
    public record Mlp(Matrix gate, Matrix up, Matrix down) {}

    /** Router, routed experts and the (optional) shared expert; {@code scoreBias} is null without aux-loss-free bias. */
    public record Moe(Matrix router, float[] scoreBias, List<Mlp> experts, Mlp shared) {}

    public static Weights load(Checkpoint ckpt, ModelConfig config) {
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            layers.add(layer(ckpt, config, "model.layers." + l + "."));
        }
        Tensor embed = unquantized(ckpt.get("model.embed_tokens.weight"));
        if (embed.shape()[0] < config.vocabSize() || embed.shape()[1] != config.hiddenSize()) {
            throw new IllegalArgumentException("tensor " + embed.describeWithFile() + " does not match vocab_size x hidden_size ["
                    + config.vocabSize() + ", " + config.hiddenSize() + "]");
        }
        Optional<Tensor> head = ckpt.find("lm_head.weight");
        Matrix lmHead = config.tieWordEmbeddings() || head.isEmpty() ? embed.asMatrix()
                : matrix(ckpt, config, "lm_head.weight", config.vocabSize(), config.hiddenSize(), false);
        return new Weights(embed, List.copyOf(layers), vector(ckpt, "model.norm.weight", config.hiddenSize()), lmHead);
    }

    /**
     * These weights with every linear map of the layers (attention projections, dense MLPs, routed
     * and shared experts) requantized to per-row int8 in {@code arena}; the router gate, norms,
     * embeddings and lm_head stay as they are.
     */
    public Weights toInt8(java.lang.foreign.Arena arena) {
        List<Layer> out = new ArrayList<>();
        for (Layer l : layers) {
            Attention a = l.attention();
            Attention qa = new Attention(int8(a.q(), arena), int8(a.qA(), arena), a.qANorm(), int8(a.qB(), arena),
                    int8(a.kvA(), arena), a.kvANorm(), int8(a.kvB(), arena), int8(a.o(), arena));
            Moe moe = l.moe() == null ? null : new Moe(l.moe().router(), l.moe().scoreBias(),
                    l.moe().experts().stream().map(e -> int8(e, arena)).toList(), int8(l.moe().shared(), arena));
            out.add(new Layer(l.inputNorm(), qa, l.postAttentionNorm(), int8(l.mlp(), arena), moe));
        }
        return new Weights(embed, List.copyOf(out), finalNorm, lmHead);
    }

    private static Mlp int8(Mlp m, java.lang.foreign.Arena arena) {
        return m == null ? null : new Mlp(int8(m.gate(), arena), int8(m.up(), arena), int8(m.down(), arena));
    }

    private static Matrix int8(Matrix m, java.lang.foreign.Arena arena) {
        return m == null ? null : Int8.quantize(m, arena);
    }

    private static Layer layer(Checkpoint ckpt, ModelConfig c, String p) {
        int layer = Integer.parseInt(p.split("\\.")[2]);
        int heads = c.numHeads();
        String a = p + "self_attn.";
        Attention attention;
        int qOut = heads * c.qkHeadDim();
        Matrix kvA = matrix(ckpt, c, a + "kv_a_proj_with_mqa.weight", c.kvLoraRank() + c.qkRopeHeadDim(), c.hiddenSize());
        Tensor kvANorm = vector(ckpt, a + "kv_a_layernorm.weight", c.kvLoraRank());
        Matrix kvB = matrix(ckpt, c, a + "kv_b_proj.weight", heads * (c.qkNopeHeadDim() + c.vHeadDim()), c.kvLoraRank());
        Matrix o = matrix(ckpt, c, a + "o_proj.weight", c.hiddenSize(), heads * c.vHeadDim());
        if (c.qLoraRank() > 0) {
            attention = new Attention(null,
                    matrix(ckpt, c, a + "q_a_proj.weight", c.qLoraRank(), c.hiddenSize()),
                    vector(ckpt, a + "q_a_layernorm.weight", c.qLoraRank()),
                    matrix(ckpt, c, a + "q_b_proj.weight", qOut, c.qLoraRank()),
                    kvA, kvANorm, kvB, o);
        } else {
            attention = new Attention(matrix(ckpt, c, a + "q_proj.weight", qOut, c.hiddenSize()), null, null, null,
                    kvA, kvANorm, kvB, o);
        }
        Mlp mlp = null;
        Moe moe = null;
        if (c.isMoeLayer(layer)) {
            moe = moe(ckpt, c, p + "mlp.");
        } else {
            mlp = mlp(ckpt, c, p + "mlp.", c.intermediateSize(), c.hiddenSize());
        }
        return new Layer(vector(ckpt, p + "input_layernorm.weight", c.hiddenSize()), attention,
                vector(ckpt, p + "post_attention_layernorm.weight", c.hiddenSize()), mlp, moe);
    }

    private static Moe moe(Checkpoint ckpt, ModelConfig c, String p) {
        int e = c.nRoutedExperts();
        int inner = c.moeIntermediateSize();
        int d = c.hiddenSize();
        Matrix router = matrix(ckpt, c, p + "gate.weight", e, d);
        Tensor biasTensor = ckpt.find(p + "gate.e_score_correction_bias")
                .or(() -> ckpt.find(p + "gate.e_score_correction.bias")).map(Weights::unquantized).orElse(null);
        if (biasTensor != null && biasTensor.elementCount() != e) {
            throw new IllegalArgumentException("tensor " + biasTensor.describeWithFile() + " does not match the config: expected "
                    + e + " values");
        }
        float[] bias = biasTensor == null ? null : biasTensor.toFloatArray();
        List<Mlp> experts = new ArrayList<>(e);
        Optional<Tensor> fused = ckpt.find(p + "experts.gate_up_proj");
        if (fused.isPresent()) {
            Matrix gateUp = unquantized(fused.get()).asMatrix();
            Matrix down = unquantized(ckpt.get(p + "experts.down_proj")).asMatrix();
            if (gateUp.rows() != e * 2 * inner || gateUp.cols() != d || down.rows() != e * d || down.cols() != inner) {
                throw new IllegalArgumentException("fused experts " + gateUp.tensor().describeWithFile() + " and "
                        + down.tensor().describeWithFile() + " do not match the config: expected [" + e * 2 * inner
                        + ", " + d + "] and [" + e * d + ", " + inner + "]");
            }
            for (int j = 0; j < e; j++) {
                experts.add(new Mlp(gateUp.rows(j * 2 * inner, inner), gateUp.rows(j * 2 * inner + inner, inner),
                        down.rows(j * d, d)));
            }
        } else {
            for (int j = 0; j < e; j++) {
                experts.add(mlp(ckpt, c, p + "experts." + j + ".", inner, d));
            }
        }
        Mlp shared = c.nSharedExperts() > 0 ? mlp(ckpt, c, p + "shared_experts.", inner * c.nSharedExperts(), d) : null;
        return new Moe(router, bias, List.copyOf(experts), shared);
    }

    private static Mlp mlp(Checkpoint ckpt, ModelConfig c, String p, int inner, int d) {
        return new Mlp(matrix(ckpt, c, p + "gate_proj.weight", inner, d), matrix(ckpt, c, p + "up_proj.weight", inner, d),
                matrix(ckpt, c, p + "down_proj.weight", d, inner));
    }

    private static Matrix matrix(Checkpoint ckpt, ModelConfig c, String name, int rows, int cols) {
        return matrix(ckpt, c, name, rows, cols, true);
    }

    /** A linear weight; an FP8 one comes with its block scales ({@code name_scale_inv}). */
    private static Matrix matrix(Checkpoint ckpt, ModelConfig c, String name, int rows, int cols, boolean exactRows) {
        Tensor t = ckpt.get(name);
        boolean fits = t.shape().length == 2 && t.shape()[1] == cols
                && (exactRows ? t.shape()[0] == rows : t.shape()[0] >= rows);
        if (!fits) {
            throw new IllegalArgumentException("tensor " + t.describeWithFile() + " does not match the config: expected ["
                    + rows + ", " + cols + "]");
        }
        if (t.dtype() != DType.F8_E4M3) {
            return t.asMatrix();
        }
        if (c.quantization() == null) {
            throw new IllegalArgumentException("tensor " + t.describeWithFile()
                    + " is FP8 but config.json has no quantization_config with its block size");
        }
        Tensor scale = ckpt.find(name + "_scale_inv").orElseThrow(() -> new IllegalArgumentException(
                "tensor " + t.describeWithFile() + " is FP8 but the checkpoint has no " + name + "_scale_inv"));
        return t.asMatrix(new BlockScale(scale, c.quantization().blockRows(), c.quantization().blockCols()));
    }

    /** Tensors read element by element (embeddings, norms, fused experts) cannot be block-quantized. */
    private static Tensor unquantized(Tensor t) {
        if (t.dtype() == DType.F8_E4M3) {
            throw new IllegalArgumentException("tensor " + t.describeWithFile()
                    + " is FP8, which the engine supports only for per-module linear weights with weight_scale_inv");
        }
        return t;
    }

    private static Tensor vector(Checkpoint ckpt, String name, int n) {
        Tensor t = unquantized(ckpt.get(name));
        if (t.elementCount() != n) {
            throw new IllegalArgumentException("tensor " + t.describeWithFile() + " does not match the config: expected "
                    + n + " values");
        }
        return t;
    }
}
