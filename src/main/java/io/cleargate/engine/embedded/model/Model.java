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

    /** How the weights are held: as the checkpoint stores them, or requantized to per-row int8 at load. */
    public enum WeightMode { AS_STORED, INT8 }

    /** Owns the int8 copies (INT8 mode); closed with the model. */
    private final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
    private final WeightMode mode;

    public Model(ModelConfig config, Checkpoint checkpoint) {
        this(config, checkpoint, WeightMode.AS_STORED);
    }

    public Model(ModelConfig config, Checkpoint checkpoint, WeightMode mode) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.mode = mode;
        Weights stored = Weights.load(checkpoint, config);
        this.weights = mode == WeightMode.INT8 ? stored.toInt8(arena) : stored;
        this.rope = new Rope(config);
        this.router = new Router(config);
        this.softmaxScale = softmaxScale(config);
    }

    /** Loads config.json and maps the safetensors files of {@code dir}. */
    public static Model load(Path dir) {
        return load(dir, WeightMode.AS_STORED);
    }

    /** Loads config.json and maps the safetensors files of {@code dir}, keeping the weights as {@code mode} says. */
    public static Model load(Path dir, WeightMode mode) {
        ModelConfig config = ModelConfig.load(dir);
        Checkpoint checkpoint = Checkpoint.open(dir);
        try {
            return new Model(config, checkpoint, mode);
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
            return run(s, new int[] {token}, 1, wantLogits, null);
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
                logits = run(s, chunk, n, last, null);
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
                run(s, java.util.Arrays.copyOfRange(tokens, from, from + n), n, true, part);
            } else {
                for (int i = 0; i < n; i++) {
                    part[i] = forwardNaive(s, tokens[from + i], true).clone();
                }
            }
            System.arraycopy(part, 0, all, from, n);
        }
        return all;
    }

    // ---- Batched forward (absorbed form) ----------------------------------------------------

    /**
     * Runs {@code n} tokens at positions {@code s.length ..}: every projection is one matrix-matrix
     * product over the batch, attention runs per (token, head) in parallel against the latent cache
     * (causal: token t sees positions up to its own), experts run on the tokens routed to them.
     * Returns the last token's logits when wanted; {@code allLogits} (may be null) gets every row.
     */
    private float[] run(Session s, int[] tokens, int n, boolean wantLogits, float[][] allLogits) {
        int pos0 = s.length;
        if (pos0 + n > s.capacity) {
            throw new IllegalStateException("session is full: capacity " + s.capacity);
        }
        int d = config.hiddenSize();
        Batch b = s.batch(n);
        for (int t = 0; t < n; t++) {
            int token = tokens[t];
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + config.vocabSize());
            }
            // Embedding lookup.
            weights.embed().read((long) token * d, d, b.x, t * d);
        }
        for (int l = 0; l < config.numLayers(); l++) {
            Weights.Layer layer = weights.layers().get(l);
            // Attention sub-block with residual.
            rmsNormRows(b.x, layer.inputNorm(), b.xn, n, d);
            attentionBatch(l, layer.attention(), s, b, pos0, n);
            add(b.x, b.attnOut, n * d);
            // Feed-forward sub-block with residual: dense MLP or mixture of experts.
            rmsNormRows(b.x, layer.postAttentionNorm(), b.xn, n, d);
            if (layer.moe() != null) {
                moeBatch(layer.moe(), b, n);
            } else {
                mlpBatch(layer.mlp(), b.xn, n, b.hidden1, b.hidden2, b.ffnOut);
            }
            add(b.x, b.ffnOut, n * d);
        }
        s.length = pos0 + n;
        if (allLogits != null) {
            // Final norm and output projection for every row.
            rmsNormRows(b.x, weights.finalNorm(), b.xn, n, d);
            int vocab = config.vocabSize();
            float[] out = new float[n * vocab];
            Kernels.matmul(weights.lmHead().rows(0, vocab), b.xn, n, d, out, vocab);
            for (int t = 0; t < n; t++) {
                allLogits[t] = java.util.Arrays.copyOfRange(out, t * vocab, (t + 1) * vocab);
            }
            System.arraycopy(allLogits[n - 1], 0, s.logits, 0, vocab);
            return s.logits;
        }
        if (!wantLogits) {
            return null;
        }
        // Final norm and output projection, last token only.
        rmsNormInto(b.x, (n - 1) * d, weights.finalNorm(), s.xn, 0, d);
        Kernels.matvec(weights.lmHead().rows(0, config.vocabSize()), s.xn, s.logits);
        return s.logits;
    }

    /** MLA for a batch, absorbed form: writes {@code b.attnOut}. */
    private void attentionBatch(int l, Weights.Attention a, Session s, Batch b, int pos0, int n) {
        int d = config.hiddenSize();
        int heads = config.numHeads();
        int nope = config.qkNopeHeadDim();
        int qk = config.qkHeadDim();
        int v = config.vHeadDim();
        int c = config.kvLoraRank();
        int r = config.qkRopeHeadDim();
        int qWidth = heads * qk;
        // Query: low-rank (q_a_proj -> RMSNorm -> q_b_proj) or full q_proj; [heads, nope + rope] per token.
        if (a.lowRankQuery()) {
            int ql = config.qLoraRank();
            Kernels.matmul(a.qA(), b.xn, n, d, b.qa, ql);
            rmsNormRows(b.qa, a.qANorm(), b.qa, n, ql);
            Kernels.matmul(a.qB(), b.qa, n, ql, b.q, qWidth);
        } else {
            Kernels.matmul(a.q(), b.xn, n, d, b.q, qWidth);
        }
        // Compressed KV: the normalised latent and the shared rope key of each token go to the cache.
        Kernels.matmul(a.kvA(), b.xn, n, d, b.kv, c + r);
        float[] latent = s.latent[l];
        float[] ropeKey = s.ropeKey[l];
        for (int t = 0; t < n; t++) {
            int pos = pos0 + t;
            rmsNormInto(b.kv, t * (c + r), a.kvANorm(), latent, pos * c, c);
            System.arraycopy(b.kv, t * (c + r) + c, ropeKey, pos * r, r);
            // Decoupled RoPE: only the rope parts of the query heads and the shared key are rotated.
            rope.apply(ropeKey, pos * r, pos);
            for (int h = 0; h < heads; h++) {
                rope.apply(b.q, t * qWidth + h * qk + nope, pos);
            }
        }
        // Every (token, head) pair attends independently: in parallel when there is enough work.
        Matrix kvB = a.kvB();
        long workPerPair = (long) nope * c + (long) (pos0 + n) * (c + r) * 2 + (long) v * c;
        Kernels.parallelFor(n * heads, workPerPair, i -> {
            int t = i / heads;
            int h = i % heads;
            attendHead(kvB, b.q, t * qWidth + h * qk, latent, ropeKey, pos0 + t, h, b.heads, (t * heads + h) * v);
        });
        // Output projection over the concatenated heads.
        Kernels.matmul(a.o(), b.heads, n, heads * v, b.attnOut, d);
    }

    /**
     * One head of one token, absorbed: q_abs = q_nope . W_UK[h]; scores against the cached latents
     * and rope keys of positions 0..pos; softmax; the weighted latent sum goes up through W_UV[h].
     */
    private void attendHead(Matrix kvB, float[] q, int qOff, float[] latent, float[] ropeKey, int pos, int h,
                            float[] out, int outOff) {
        int nope = config.qkNopeHeadDim();
        int v = config.vHeadDim();
        int c = config.kvLoraRank();
        int r = config.qkRopeHeadDim();
        int headRows = h * (nope + v);
        float[] qAbs = new float[c];
        for (int j = 0; j < nope; j++) {
            Kernels.axpyRow(kvB, headRows + j, q[qOff + j], qAbs, 0);
        }
        float[] scores = new float[pos + 1];
        for (int t = 0; t <= pos; t++) {
            float score = Kernels.dot(qAbs, 0, latent, t * c, c) + Kernels.dot(q, qOff + nope, ropeKey, t * r, r);
            scores[t] = score * softmaxScale;
        }
        softmaxInPlace(scores, pos + 1);
        float[] oLatent = new float[c];
        for (int t = 0; t <= pos; t++) {
            Kernels.axpy(scores[t], latent, t * c, oLatent, 0, c);
        }
        Kernels.matvec(kvB.rows(headRows + nope, v), oLatent, 0, out, outOff);
    }

    /** SwiGLU over a batch: {@code out = down(silu(gate x) * up x)}, rows of {@code x} are tokens. */
    private void mlpBatch(Weights.Mlp m, float[] x, int n, float[] g, float[] u, float[] out) {
        int d = config.hiddenSize();
        int inner = m.gate().rows();
        Kernels.matmul(m.gate(), x, n, d, g, inner);
        Kernels.matmul(m.up(), x, n, d, u, inner);
        for (int i = 0; i < n * inner; i++) {
            float z = g[i];
            g[i] = z / (1f + (float) Math.exp(-z)) * u[i];
        }
        Kernels.matmul(m.down(), g, n, inner, out, d);
    }

    /**
     * DeepSeekMoE over a batch: route every token, then run each chosen expert once on the tokens
     * routed to it (experts in parallel), plus the shared expert on all tokens; outputs are summed
     * with the routing weights in a fixed order, so results do not depend on scheduling.
     */
    private void moeBatch(Weights.Moe moe, Batch b, int n) {
        int d = config.hiddenSize();
        int e = config.nRoutedExperts();
        Kernels.matmul(moe.router(), b.xn, n, d, b.routerLogits, e);
        Router.Selection[] picks = new Router.Selection[n];
        int[] count = new int[e];
        for (int t = 0; t < n; t++) {
            picks[t] = router.select(java.util.Arrays.copyOfRange(b.routerLogits, t * e, (t + 1) * e), moe.scoreBias());
            for (int expert : picks[t].experts()) {
                count[expert]++;
            }
        }
        // Tokens of each active expert, in token order.
        int[] active = java.util.stream.IntStream.range(0, e).filter(j -> count[j] > 0).toArray();
        int[][] members = new int[e][];
        for (int j : active) {
            members[j] = new int[count[j]];
        }
        int[] fill = new int[e];
        for (int t = 0; t < n; t++) {
            for (int expert : picks[t].experts()) {
                members[expert][fill[expert]++] = t;
            }
        }
        int tasks = active.length + (moe.shared() != null ? 1 : 0);
        float[][] outputs = new float[tasks][];
        long expertWork = 3L * d * config.moeIntermediateSize();
        Kernels.parallelFor(tasks, expertWork * Math.max(1, n * config.numExpertsPerTok() / Math.max(1, tasks)), i -> {
            if (i < active.length) {
                int[] rows = members[active[i]];
                outputs[i] = expertOn(moe.experts().get(active[i]), b.xn, rows);
            } else {
                Weights.Mlp shared = moe.shared();
                int inner = shared.gate().rows();
                float[] out = new float[n * d];
                mlpBatch(shared, b.xn, n, new float[n * inner], new float[n * inner], out);
                outputs[i] = out;
            }
        });
        java.util.Arrays.fill(b.ffnOut, 0, n * d, 0f);
        for (int i = 0; i < active.length; i++) {
            int expert = active[i];
            int[] rows = members[expert];
            for (int k = 0; k < rows.length; k++) {
                int t = rows[k];
                Kernels.axpy(weightOf(picks[t], expert), outputs[i], k * d, b.ffnOut, t * d, d);
            }
        }
        if (moe.shared() != null) {
            add(b.ffnOut, outputs[tasks - 1], n * d);
        }
    }

    /** One routed expert on the given token rows of {@code xn}; output rows in the same order. */
    private float[] expertOn(Weights.Mlp expert, float[] xn, int[] rows) {
        int d = config.hiddenSize();
        int inner = expert.gate().rows();
        float[] x = new float[rows.length * d];
        for (int k = 0; k < rows.length; k++) {
            System.arraycopy(xn, rows[k] * d, x, k * d, d);
        }
        float[] out = new float[rows.length * d];
        mlpBatch(expert, x, rows.length, new float[rows.length * inner], new float[rows.length * inner], out);
        return out;
    }

    private static float weightOf(Router.Selection pick, int expert) {
        for (int j = 0; j < pick.experts().length; j++) {
            if (pick.experts()[j] == expert) {
                return pick.weights()[j];
            }
        }
        throw new IllegalStateException("expert " + expert + " was not picked");
    }

    private void rmsNormRows(float[] x, Tensor weight, float[] out, int n, int width) {
        for (int t = 0; t < n; t++) {
            rmsNormInto(x, t * width, weight, out, t * width, width);
        }
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
