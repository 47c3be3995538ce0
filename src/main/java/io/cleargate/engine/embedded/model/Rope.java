package io.cleargate.engine.embedded.model;

/**
 * Rotary position embedding for the decoupled rope part of MLA, with YaRN frequency scaling
 * computed the way transformers' {@code _compute_yarn_parameters} does it.
 */
public final class Rope {

    private final int dim;
    private final boolean interleave;
    /** Frequency per rotated pair. */
    private final double[] inverseFrequency;
    /** YaRN's multiplier on cos and sin (1 without YaRN, or when mscale equals mscale_all_dim). */
    private final double attentionFactor;

    public Rope(ModelConfig config) {
        this.dim = config.qkRopeHeadDim();
        this.interleave = config.ropeInterleave();
        ModelConfig.Rope rope = config.rope();
        int half = dim / 2;
        double[] base = new double[half];
        for (int i = 0; i < half; i++) {
            base[i] = 1.0 / Math.pow(rope.theta(), (2.0 * i) / dim);
        }
        ModelConfig.Yarn yarn = rope.yarn();
        if (yarn == null) {
            inverseFrequency = base;
            attentionFactor = 1.0;
            return;
        }
        // Dimensions whose wavelength fits in the original context keep their frequency
        // (extrapolation); long-wavelength ones are divided by the factor (interpolation); a
        // linear ramp between the correction dimensions of beta_fast and beta_slow blends the two.
        double low = correctionDim(yarn.betaFast(), dim, rope.theta(), yarn.originalMaxPositionEmbeddings());
        double high = correctionDim(yarn.betaSlow(), dim, rope.theta(), yarn.originalMaxPositionEmbeddings());
        if (yarn.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001;
        }
        inverseFrequency = new double[half];
        for (int i = 0; i < half; i++) {
            double ramp = Math.min(1.0, Math.max(0.0, (i - low) / (high - low)));
            double extrapolationWeight = 1.0 - ramp;
            double interpolated = base[i] / yarn.factor();
            inverseFrequency[i] = interpolated * (1 - extrapolationWeight) + base[i] * extrapolationWeight;
        }
        attentionFactor = yarnAttentionFactor(yarn);
    }

    static double correctionDim(double rotations, int dim, double theta, int originalMax) {
        return dim * Math.log(originalMax / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    /** 0.1 * mscale * ln(factor) + 1, or 1 when the factor does not extend the context. */
    public static double mscale(double factor, double mscale) {
        return factor <= 1 ? 1.0 : 0.1 * mscale * Math.log(factor) + 1.0;
    }

    static double yarnAttentionFactor(ModelConfig.Yarn yarn) {
        if (!Double.isNaN(yarn.attentionFactor())) {
            return yarn.attentionFactor();
        }
        if (yarn.mscale() != 0 && yarn.mscaleAllDim() != 0) {
            return mscale(yarn.factor(), yarn.mscale()) / mscale(yarn.factor(), yarn.mscaleAllDim());
        }
        return mscale(yarn.factor(), 1.0);
    }

    /**
     * Rotates {@code x[off .. off + dim]} in place for position {@code pos}. Interleaved layout
     * pairs (x[2i], x[2i+1]) as the official code does; HF's de-interleave plus rotate_half pairs
     * the same elements and only permutes the output, which leaves every q.k product unchanged.
     */
    public void apply(float[] x, int off, int pos) {
        float[] cos = new float[dim / 2];
        float[] sin = new float[dim / 2];
        angles(pos, cos, sin, 0);
        apply(x, off, cos, sin, 0);
    }

    /**
     * The cos and sin {@link #apply} uses at {@code pos}, into {@code cos[at ..]} and {@code sin[at ..]}
     * (dim / 2 values each): computed once per token, they serve every head's query.
     */
    public void angles(int pos, float[] cos, float[] sin, int at) {
        for (int i = 0; i < dim / 2; i++) {
            // HF rounds the angle to f32 before taking cos and sin; doing the same keeps parity at long positions.
            float a = (float) ((float) pos * (float) inverseFrequency[i]);
            cos[at + i] = (float) (Math.cos(a) * attentionFactor);
            sin[at + i] = (float) (Math.sin(a) * attentionFactor);
        }
    }

    /** {@link #apply} with the angles of {@link #angles}. */
    public void apply(float[] x, int off, float[] cos, float[] sin, int at) {
        int half = dim / 2;
        for (int i = 0; i < half; i++) {
            int i0 = interleave ? off + 2 * i : off + i;
            int i1 = interleave ? off + 2 * i + 1 : off + i + half;
            float x0 = x[i0];
            float x1 = x[i1];
            float c = cos[at + i];
            float s = sin[at + i];
            x[i0] = x0 * c - x1 * s;
            x[i1] = x1 * c + x0 * s;
        }
    }
}
