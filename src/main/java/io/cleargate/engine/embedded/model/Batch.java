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
    /**
     * The experts' inputs (gathered token rows), hidden activations and outputs of one MoE layer,
     * handed out in slices by the routing plan: allocating them per layer and expert was most of the
     * plan's time in a 64-token prefill (the other members wait for it).
     */
    final float[] expertIn;
    final float[] expertHidden1;
    final float[] expertHidden2;
    final float[] expertOut;
    /**
     * Per-member copies of normalised inputs ({@link #xnOf}, {@link #qaOf}) and of the embedded rows:
     * a step that needs a whole normalised input makes it itself, on every member, instead of waiting
     * at a barrier for one shared copy. Made on first use for a team size.
     */
    private float[][] memberXn;
    private float[][] memberQa;
    private float[][] memberX;

    /** Makes the per-member buffers for {@code members} members (on the calling thread, before a region). */
    void members(ModelConfig c, int members) {
        if (memberXn == null || memberXn.length < members) {
            int d = c.hiddenSize();
            memberXn = new float[members][];
            memberQa = new float[members][];
            memberX = new float[members][];
            for (int m = 0; m < members; m++) {
                memberXn[m] = m == 0 ? xn : new float[tokens * d];
                memberX[m] = m == 0 ? x : new float[tokens * d];
                memberQa[m] = new float[qa.length];
            }
        }
    }

    /** Member m's normalised hidden rows: member 0's are the shared {@link #xn}, which later steps read. */
    float[] xnOf(int m) {
        return memberXn[m];
    }

    /** Member m's embedded rows: member 0's are the shared residual stream {@link #x}. */
    float[] xOf(int m) {
        return memberX[m];
    }

    /** Member m's normalised q_a rows. */
    float[] qaOf(int m) {
        return memberQa[m];
    }

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
        int picks = tokens * Math.max(0, c.numExpertsPerTok());
        int sharedInner = c.moeIntermediateSize() * Math.max(0, c.nSharedExperts());
        expertIn = new float[picks * d];
        expertHidden1 = new float[picks * c.moeIntermediateSize() + tokens * sharedInner];
        expertHidden2 = new float[expertHidden1.length];
        expertOut = new float[(picks + (sharedInner > 0 ? tokens : 0)) * d];
        cos = new float[tokens * (c.qkRopeHeadDim() / 2)];
        sin = new float[tokens * (c.qkRopeHeadDim() / 2)];
    }
}
