package io.cleargate.engine.embedded.model;

import java.nio.file.Path;

/**
 * A loaded DeepSeek-V2/V3 model and its forward pass over a batch of tokens of one sequence
 * (a prompt is prefilled with matrix-matrix products; decoding is a batch of one).
 *
 * <p>Block: {@code h += MLA(RMSNorm(h)); h += FFN(RMSNorm(h))}; the FFN is a dense SwiGLU MLP
 * for the first first_k_dense_replace layers and a DeepSeekMoE layer after that; logits are
 * {@code lm_head(RMSNorm(h))}. The model is immutable and thread-safe; all mutable state lives in
 * {@link Session}s.
 */
public final class Model implements AutoCloseable {

    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final Weights weights;
    private final Rope rope;
    private final Router router;
    private final float softmaxScale;
    private final Forward forward;

    /** How the weights are held: as the checkpoint stores them, or requantized to per-row int8 at load. */
    public enum WeightMode { AS_STORED, INT8 }

    /** Owns the int8 copies (INT8 mode); closed with the model. */
    private final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
    private final WeightMode mode;

    public Model(ModelConfig config, Checkpoint checkpoint) {
        this(config, checkpoint, WeightMode.AS_STORED);
    }

    public Model(ModelConfig config, Checkpoint checkpoint, WeightMode mode) {
        this(config, checkpoint, mode, Team.shared());
    }

    /** A model whose batched forward pass runs on {@code team} (the engine's shared team unless a test says otherwise). */
    public Model(ModelConfig config, Checkpoint checkpoint, WeightMode mode, Team team) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.mode = mode;
        Weights stored = Weights.load(checkpoint, config);
        this.weights = mode == WeightMode.INT8 ? stored.toInt8(arena) : stored;
        this.rope = new Rope(config);
        this.router = new Router(config);
        this.softmaxScale = softmaxScale(config);
        this.forward = new Forward(config, weights, rope, router, softmaxScale, team);
    }

    /** Loads config.json and maps the safetensors files of {@code dir}. */
    public static Model load(Path dir) {
        return load(dir, WeightMode.AS_STORED);
    }

    /** Loads config.json and maps the safetensors files of {@code dir}, keeping the weights as {@code mode} says. */
    public static Model load(Path dir, WeightMode mode) {
        return load(dir, mode, Team.shared());
    }

    /** As {@link #load(Path, WeightMode)}, with the batched forward pass on {@code team}. */
    public static Model load(Path dir, WeightMode mode, Team team) {
        ModelConfig config = ModelConfig.load(dir);
        Checkpoint checkpoint = Checkpoint.open(dir);
        try {
            return new Model(config, checkpoint, mode, team);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * (qk_nope + qk_rope)^-0.5, times mscale(factor, mscale_all_dim)^2 under YaRN: the attention
     * temperature correction for the extended context.
     */
    static float softmaxScale(ModelConfig c) {
        double scale = 1.0 / Math.sqrt(c.qkHeadDim());
        ModelConfig.Yarn yarn = c.rope().yarn();
        if (yarn != null && yarn.mscaleAllDim() != 0) {
            double m = Rope.mscale(yarn.factor(), yarn.mscaleAllDim());
            scale *= m * m;
        }
        return (float) scale;
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Bytes of weights one decoded token reads: attention, the dense MLP or the router plus the
     * chosen and shared experts, and lm_head (norms and the one embedding row are negligible).
     * This over the read bandwidth is the decode speed bound.
     *
     * @param asF32 count every weight as 4 bytes (what the same model costs unquantized)
     */
    public long activeWeightBytes(boolean asF32) {
        long total = bytes(weights.lmHead().rows(0, config.vocabSize()), asF32);
        for (Weights.Layer layer : weights.layers()) {
            Weights.Attention a = layer.attention();
            total += a.lowRankQuery() ? bytes(a.qA(), asF32) + bytes(a.qB(), asF32) : bytes(a.q(), asF32);
            total += bytes(a.kvA(), asF32) + bytes(a.kvB(), asF32) + bytes(a.o(), asF32);
            if (layer.moe() != null) {
                Weights.Moe moe = layer.moe();
                total += bytes(moe.router(), asF32) + (long) config.numExpertsPerTok() * bytes(moe.experts().get(0), asF32);
                if (moe.shared() != null) {
                    total += bytes(moe.shared(), asF32);
                }
            } else {
                total += bytes(layer.mlp(), asF32);
            }
        }
        return total;
    }

    /** Bytes of all mapped weights: decode sweeps through all of them as tokens pick different experts. */
    public long totalWeightBytes() {
        return checkpoint.totalBytes(); // in INT8 mode the mapped originals stay, but decode reads only the int8 copies
    }

    /** The dtype of the attention and expert weights ("F8_E4M3", "BF16", ...), as a label for reports. */
    public String weightFormat() {
        String stored = checkpoint.find(weights.layers().get(0).attention().kvA().tensor().name().split("#")[0])
                .map(t -> t.dtype().name()).orElse("?");
        return mode == WeightMode.INT8 ? "I8 (from " + stored + ")" : stored;
    }

    private static long bytes(Weights.Mlp m, boolean asF32) {
        return bytes(m.gate(), asF32) + bytes(m.up(), asF32) + bytes(m.down(), asF32);
    }

    private static long bytes(Matrix m, boolean asF32) {
        return asF32 ? (long) m.rows() * m.cols() * Float.BYTES : m.bytes();
    }

    public Session newSession(int capacity, Session.Form form) {
        return new Session(config, capacity, form);
    }

    /**
     * Runs one token at the session's next position and returns the logits over the vocabulary
     * (a buffer owned by the session, overwritten by the next call), or null when
     * {@code wantLogits} is false (prompt tokens before the last).
     */
    public float[] forward(Session s, int token, boolean wantLogits) {
        if (s.form == Session.Form.ABSORBED) {
            return forward.run(s, new int[] {token}, 1, wantLogits, null);
        }
        return forwardNaive(s, token, wantLogits);
    }

    /** Largest number of prompt tokens run as one batch (bounds the batch scratch). */
    public static final int PREFILL_CHUNK = 64;

    /**
     * Runs {@code tokens} at the session's next positions as batches of up to {@link #PREFILL_CHUNK}
     * and returns the logits of the last one (a session buffer). The naive form runs token by token.
     */
    public float[] prefill(Session s, int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("nothing to prefill");
        }
        float[] logits = null;
        for (int from = 0; from < tokens.length; from += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, tokens.length - from);
            int[] chunk = java.util.Arrays.copyOfRange(tokens, from, from + n);
            boolean last = from + n == tokens.length;
            if (s.form == Session.Form.ABSORBED) {
                logits = forward.run(s, chunk, n, last, null);
            } else {
                for (int i = 0; i < n; i++) {
                    logits = forwardNaive(s, chunk[i], last && i == n - 1);
                }
            }
        }
        return logits;
    }

    /**
     * Logits at every position of {@code tokens} (batched like a prefill): what perplexity and the
     * parity tests need. Rows are fresh arrays.
     */
    public float[][] logitsAt(Session s, int[] tokens) {
        float[][] all = new float[tokens.length][];
        for (int from = 0; from < tokens.length; from += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, tokens.length - from);
            float[][] part = new float[n][];
            if (s.form == Session.Form.ABSORBED) {
                forward.run(s, java.util.Arrays.copyOfRange(tokens, from, from + n), n, true, part);
            } else {
                for (int i = 0; i < n; i++) {
                    part[i] = forwardNaive(s, tokens[from + i], true).clone();
                }
            }
            System.arraycopy(part, 0, all, from, n);
        }
        return all;
    }

    // ---- Token-by-token forward (naive form, the oracle) ------------------------------------

    private float[] forwardNaive(Session s, int token, boolean wantLogits) {
        int pos = s.length;
        if (pos >= s.capacity) {
            throw new IllegalStateException("session is full: capacity " + s.capacity);
        }
        if (token < 0 || token >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + config.vocabSize());
        }
        int d = config.hiddenSize();
        float[] x = s.x;
        // Embedding lookup.
        weights.embed().read((long) token * d, d, x);
        for (int l = 0; l < config.numLayers(); l++) {
            Weights.Layer layer = weights.layers().get(l);
            // Attention sub-block with residual.
            rmsNorm(x, layer.inputNorm(), s.xn, d);
            naiveAttention(l, layer.attention(), s, pos, s.residual);
            add(x, s.residual, d);
            // Feed-forward sub-block with residual: dense MLP or mixture of experts.
            rmsNorm(x, layer.postAttentionNorm(), s.xn, d);
            if (layer.moe() != null) {
                moe(layer.moe(), s, s.residual);
            } else {
                java.util.Arrays.fill(s.residual, 0f);
                mlpAdd(layer.mlp(), s.xn, s, 1f, s.residual);
            }
            add(x, s.residual, d);
        }
        s.length = pos + 1;
        if (!wantLogits) {
            return null;
        }
        // Final norm and output projection.
        rmsNorm(x, weights.finalNorm(), s.xn, d);
        Kernels.matvec(weights.lmHead().rows(0, config.vocabSize()), s.xn, s.logits);
        return s.logits;
    }

    // ---- Multi-head latent attention --------------------------------------------------------

    /** Shared first half of MLA: the query heads, the compressed latent and the rotated rope key. */
    private void projections(Weights.Attention a, Session s, int pos, float[] latentOut, int latentOff,
                             float[] ropeOut, int ropeOff) {
        int heads = config.numHeads();
        int nope = config.qkNopeHeadDim();
        int qk = config.qkHeadDim();
        int c = config.kvLoraRank();
        int r = config.qkRopeHeadDim();
        // Query: low-rank (q_a_proj -> RMSNorm -> q_b_proj) or full q_proj; [heads, nope + rope].
        if (a.lowRankQuery()) {
            Kernels.matvec(a.qA(), s.xn, s.qa);
            rmsNorm(s.qa, a.qANorm(), s.qa, config.qLoraRank());
            Kernels.matvec(a.qB(), s.qa, s.q);
        } else {
            Kernels.matvec(a.q(), s.xn, s.q);
        }
        // Compressed KV: kv_a_proj_with_mqa gives the latent c (kv_lora_rank) and one rope key shared by all heads.
        Kernels.matvec(a.kvA(), s.xn, s.kv);
        rmsNormInto(s.kv, 0, a.kvANorm(), latentOut, latentOff, c);
        System.arraycopy(s.kv, c, ropeOut, ropeOff, r);
        // Decoupled RoPE: only the rope parts of the query heads and the shared key are rotated.
        rope.apply(ropeOut, ropeOff, pos);
        for (int h = 0; h < heads; h++) {
            rope.apply(s.q, h * qk + nope, pos);
        }
    }

    /** The reference form: expand keys and values per head with kv_b_proj and attend conventionally. */
    private void naiveAttention(int l, Weights.Attention a, Session s, int pos, float[] out) {
        int heads = config.numHeads();
        int nope = config.qkNopeHeadDim();
        int qk = config.qkHeadDim();
        int v = config.vHeadDim();
        int c = config.kvLoraRank();
        int r = config.qkRopeHeadDim();
        float[] latent = new float[c];
        float[] ropeKey = new float[r];
        projections(a, s, pos, latent, 0, ropeKey, 0);
        // Keys and values for every head: kv_b_proj(c) = [k_nope ; v] per head; the key gets the shared rope part.
        Kernels.matvec(a.kvB(), latent, s.kvb);
        float[] keys = s.keys[l];
        float[] values = s.values[l];
        for (int h = 0; h < heads; h++) {
            int kOff = (pos * heads + h) * qk;
            System.arraycopy(s.kvb, h * (nope + v), keys, kOff, nope);
            System.arraycopy(ropeKey, 0, keys, kOff + nope, r);
            System.arraycopy(s.kvb, h * (nope + v) + nope, values, (pos * heads + h) * v, v);
        }
        // Causal softmax attention per head.
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t <= pos; t++) {
                s.scores[t] = Kernels.dot(s.q, h * qk, keys, (t * heads + h) * qk, qk) * softmaxScale;
            }
            softmaxInPlace(s.scores, pos + 1);
            java.util.Arrays.fill(s.heads, h * v, (h + 1) * v, 0f);
            for (int t = 0; t <= pos; t++) {
                Kernels.axpy(s.scores[t], values, (t * heads + h) * v, s.heads, h * v, v);
            }
        }
        Kernels.matvec(a.o(), s.heads, out);
    }

    // ---- Feed-forward -----------------------------------------------------------------------

    /** SwiGLU: {@code out += weight * down(silu(gate x) * up x)}. */
    private void mlpAdd(Weights.Mlp m, float[] x, Session s, float weight, float[] out) {
        int inner = m.gate().rows();
        Kernels.matvec(m.gate(), x, s.hidden1);
        Kernels.matvec(m.up(), x, s.hidden2);
        for (int i = 0; i < inner; i++) {
            float g = s.hidden1[i];
            s.hidden1[i] = g / (1f + (float) Math.exp(-g)) * s.hidden2[i];
        }
        Kernels.matvec(m.down(), s.hidden1, s.expertOut);
        Kernels.axpy(weight, s.expertOut, 0, out, 0, out.length);
    }

    /** DeepSeekMoE: routed experts chosen by the router, weighted, plus the always-on shared expert. */
    private void moe(Weights.Moe moe, Session s, float[] out) {
        // Router logits in f32, then selection (only the chosen experts are computed).
        Kernels.matvec(moe.router(), s.xn, s.routerLogits);
        Router.Selection pick = router.select(s.routerLogits, moe.scoreBias());
        java.util.Arrays.fill(out, 0f);
        for (int j = 0; j < pick.experts().length; j++) {
            mlpAdd(moe.experts().get(pick.experts()[j]), s.xn, s, pick.weights()[j], out);
        }
        // Shared experts see every token.
        if (moe.shared() != null) {
            mlpAdd(moe.shared(), s.xn, s, 1f, out);
        }
    }

    // ---- Small helpers ----------------------------------------------------------------------

    /** RMSNorm: {@code x * rsqrt(mean(x^2) + eps) * w}. {@code out} may be {@code x}. */
    private void rmsNorm(float[] x, Tensor weight, float[] out, int n) {
        rmsNormInto(x, 0, weight, out, 0, n);
    }

    private void rmsNormInto(float[] x, int xOff, Tensor weight, float[] out, int outOff, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + config.rmsNormEps()));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = weight.get(i) * (x[xOff + i] * inv);
        }
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += y[i];
        }
    }

    static void softmaxInPlace(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < n; i++) {
            x[i] /= sum;
        }
    }

    /** Unmaps the checkpoint. No session may run afterwards. */
    @Override
    public void close() {
        arena.close();
        checkpoint.close();
    }
}
