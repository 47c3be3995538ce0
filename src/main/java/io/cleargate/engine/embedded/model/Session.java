package io.cleargate.engine.embedded.model;

/**
 * The per-sequence state: the attention cache plus scratch buffers, so sequences run concurrently
 * without sharing anything mutable. Memory is fixed at creation: {@code capacity} positions.
 *
 * <p>The absorbed form caches, per token and layer, one row of the normalised latent {@code c}
 * (kv_lora_rank values) followed by the rotated shared rope key (qk_rope_head_dim values): a query
 * row laid out the same way ([q_abs | q_pe]) scores against a position with one dot product. The
 * naive form (the test oracle) caches full per-head keys and values.
 */
public final class Session {

    /** Which attention computation and cache layout the session uses. */
    public enum Form { ABSORBED, NAIVE }

    final Form form;
    final int capacity;
    int length;

    // Absorbed cache: [layer][position * (kv_lora_rank + qk_rope_head_dim)], latent then rope key.
    final float[][] latentKeys;
    // Naive cache: [layer][position * heads * (nope + rope)] and [layer][position * heads * v].
    final float[][] keys;
    final float[][] values;

    // Scratch, sized once from the config.
    final float[] x;
    final float[] xn;
    final float[] residual;
    final float[] qa;
    final float[] q;
    final float[] kv;
    final float[] kvb;
    final float[] qAbs;
    final float[] oLatent;
    final float[] heads;
    final float[] scores;
    final float[] hidden1;
    final float[] hidden2;
    final float[] expertOut;
    final float[] routerLogits;
    final float[] logits;

    Session(ModelConfig c, int capacity, Form form) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.form = form;
        this.capacity = capacity;
        this.config = c;
        int layers = c.numLayers();
        int heads = c.numHeads();
        if (form == Form.ABSORBED) {
            latentKeys = new float[layers][capacity * c.latentCacheWidth()];
            keys = null;
            values = null;
        } else {
            latentKeys = null;
            keys = new float[layers][capacity * heads * c.qkHeadDim()];
            values = new float[layers][capacity * heads * c.vHeadDim()];
        }
        int d = c.hiddenSize();
        x = new float[d];
        xn = new float[d];
        residual = new float[d];
        qa = new float[Math.max(1, c.qLoraRank())];
        q = new float[heads * c.qkHeadDim()];
        kv = new float[c.kvLoraRank() + c.qkRopeHeadDim()];
        kvb = new float[heads * (c.qkNopeHeadDim() + c.vHeadDim())];
        qAbs = new float[c.kvLoraRank()];
        oLatent = new float[c.kvLoraRank()];
        this.heads = new float[heads * c.vHeadDim()];
        scores = new float[capacity];
        int inner = Math.max(c.intermediateSize(), c.moeIntermediateSize() * Math.max(1, c.nSharedExperts()));
        hidden1 = new float[inner];
        hidden2 = new float[inner];
        expertOut = new float[d];
        routerLogits = new float[Math.max(1, c.nRoutedExperts())];
        logits = new float[c.vocabSize()];
    }

    private Batch batch;
    private final ModelConfig config;

    /** Scratch for a batch of at least {@code tokens} tokens. */
    Batch batch(int tokens) {
        if (batch == null || batch.tokens < tokens) {
            batch = new Batch(config, tokens);
        }
        return batch;
    }

    /** Tokens processed so far (the position of the next token). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public Form form() {
        return form;
    }

    /** Bytes held by the attention cache of this session (for its full capacity). */
    public long cacheBytes() {
        long n = 0;
        if (form == Form.ABSORBED) {
            for (float[] layer : latentKeys) {
                n += layer.length;
            }
        } else {
            for (int l = 0; l < keys.length; l++) {
                n += keys[l].length + values[l].length;
            }
        }
        return n * Float.BYTES;
    }
}
