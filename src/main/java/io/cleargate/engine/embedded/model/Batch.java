package io.cleargate.engine.embedded.model;

/**
 * Scratch for running several tokens of one sequence through the layers together (row t of each
 * buffer belongs to token t). Owned by a {@link Session}; grown to the largest batch it has run.
 */
final class Batch {

    final int tokens;
    final float[] x;
    final float[] xn;
    final float[] attnOut;
    final float[] ffnOut;
    final float[] qa;
    final float[] q;
    final float[] kv;
    final float[] heads;
    final float[] hidden1;
    final float[] hidden2;
    final float[] routerLogits;
    /** Rope angles of each token's position (qk_rope_head_dim / 2 each): made once, used by every head. */
    final float[] cos;
    final float[] sin;

    Batch(ModelConfig c, int tokens) {
        this.tokens = tokens;
        int d = c.hiddenSize();
        int h = c.numHeads();
        x = new float[tokens * d];
        xn = new float[tokens * d];
        attnOut = new float[tokens * d];
        ffnOut = new float[tokens * d];
        qa = new float[tokens * Math.max(1, c.qLoraRank())];
        q = new float[tokens * h * c.qkHeadDim()];
        kv = new float[tokens * (c.kvLoraRank() + c.qkRopeHeadDim())];
        heads = new float[tokens * h * c.vHeadDim()];
        int inner = Math.max(c.intermediateSize(), c.moeIntermediateSize() * Math.max(1, c.nSharedExperts()));
        hidden1 = new float[tokens * inner];
        hidden2 = new float[tokens * inner];
        routerLogits = new float[tokens * Math.max(1, c.nRoutedExperts())];
        cos = new float[tokens * (c.qkRopeHeadDim() / 2)];
        sin = new float[tokens * (c.qkRopeHeadDim() / 2)];
    }
}
