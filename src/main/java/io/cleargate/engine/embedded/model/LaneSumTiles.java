package io.cleargate.engine.embedded.model;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Four weight rows against two, three or four tokens whose sixteen (twelve, eight) lane sums are made
 * together. For products of few tokens the rows are read where they are mapped (f32 or bf16), all of
 * a tile's tokens in one pass over them: the tiles, such as a routed expert's in a prefill
 * (about four tokens of a 64-token prompt, the rest spread over one to ten). Each tile keeps one
 * accumulator per (row, token) and ends with all of their lane sums made together by
 * {@link #laneSums}, a tree of two-vector permutes and adds (45 vector operations for sixteen sums),
 * where sixteen separate {@code reduceLanes} cost about three times as many: for the experts' down
 * projections (256 columns, sixteen vector steps per row) the separate sums were a large part of a
 * tile. A sum is the same tree over the same lanes as {@code reduceLanes} makes, in another order of
 * the tree's additions, so a (row, token) may differ from {@link VectorKernels#dotF32Single} by the
 * rounding of a few additions (~1e-7 relative), not by a term.
 *
 * <p>Only used when the preferred float vector has {@link #LANES} lanes (AVX-512); otherwise
 * {@link Kernels} keeps the tiles of {@link VectorKernels}.
 */
final class LaneSumTiles {

    static final int LANES = 16;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Whether these tiles can run: sixteen float lanes, and the short vector for bf16 as wide in lanes. */
    static final boolean USABLE = F.length() == LANES;
    private static final VectorSpecies<Short> S = USABLE ? ShortVector.SPECIES_256 : ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> QUARTER = FloatVector.SPECIES_128;

    /*
     * The lane-sum tree. At level s each vector holds 2^s accumulators' partial sums, as 2^s groups of
     * g = 16 >> s lanes; folding two such vectors X and Y halves every group: the result holds, group
     * by group, X's group summed pairwise from its two halves and then Y's. After four levels lane j
     * holds the sum of the accumulator given at position bitReverse(j) (see laneSums).
     */
    private static final FloatVector[] LOW = new FloatVector[4];
    private static final FloatVector[] HIGH = new FloatVector[4];

    static {
        if (USABLE) {
            for (int s = 0; s < 4; s++) {
                int g = LANES >> s;
                float[] low = new float[LANES];
                float[] high = new float[LANES];
                for (int p = 0; p < LANES; p++) {
                    int q = p / g;
                    int within = p % g;
                    boolean fromX = within < g / 2;
                    int lane = q * g + (fromX ? within : within - g / 2);
                    low[p] = fromX ? lane : LANES + lane;
                    high[p] = (fromX ? lane : LANES + lane) + g / 2;
                }
                LOW[s] = FloatVector.fromArray(F, low, 0);
                HIGH[s] = FloatVector.fromArray(F, high, 0);
            }
        }
    }

    private static final FloatVector LOW0 = LOW[0];
    private static final FloatVector HIGH0 = HIGH[0];
    private static final FloatVector LOW1 = LOW[1];
    private static final FloatVector HIGH1 = HIGH[1];
    private static final FloatVector LOW2 = LOW[2];
    private static final FloatVector HIGH2 = HIGH[2];
    private static final FloatVector LOW3 = LOW[3];
    private static final FloatVector HIGH3 = HIGH[3];

    private LaneSumTiles() {}

    /**
     * The lane sums of sixteen accumulators in one vector: lane j holds the sum of the lanes of the
     * accumulator at position bitReverse4(j) ({@code p0 .. p15}). A tile passes its accumulators in
     * that order so that lane {@code 4t + k} holds row k's sum for token t.
     */
    static FloatVector laneSums(FloatVector p0, FloatVector p1, FloatVector p2, FloatVector p3,
                                FloatVector p4, FloatVector p5, FloatVector p6, FloatVector p7,
                                FloatVector p8, FloatVector p9, FloatVector p10, FloatVector p11,
                                FloatVector p12, FloatVector p13, FloatVector p14, FloatVector p15) {
        FloatVector q0 = LOW0.selectFrom(p0, p1).add(HIGH0.selectFrom(p0, p1));
        FloatVector q1 = LOW0.selectFrom(p2, p3).add(HIGH0.selectFrom(p2, p3));
        FloatVector q2 = LOW0.selectFrom(p4, p5).add(HIGH0.selectFrom(p4, p5));
        FloatVector q3 = LOW0.selectFrom(p6, p7).add(HIGH0.selectFrom(p6, p7));
        FloatVector q4 = LOW0.selectFrom(p8, p9).add(HIGH0.selectFrom(p8, p9));
        FloatVector q5 = LOW0.selectFrom(p10, p11).add(HIGH0.selectFrom(p10, p11));
        FloatVector q6 = LOW0.selectFrom(p12, p13).add(HIGH0.selectFrom(p12, p13));
        FloatVector q7 = LOW0.selectFrom(p14, p15).add(HIGH0.selectFrom(p14, p15));
        FloatVector r0 = LOW1.selectFrom(q0, q1).add(HIGH1.selectFrom(q0, q1));
        FloatVector r1 = LOW1.selectFrom(q2, q3).add(HIGH1.selectFrom(q2, q3));
        FloatVector r2 = LOW1.selectFrom(q4, q5).add(HIGH1.selectFrom(q4, q5));
        FloatVector r3 = LOW1.selectFrom(q6, q7).add(HIGH1.selectFrom(q6, q7));
        FloatVector s0 = LOW2.selectFrom(r0, r1).add(HIGH2.selectFrom(r0, r1));
        FloatVector s1 = LOW2.selectFrom(r2, r3).add(HIGH2.selectFrom(r2, r3));
        return LOW3.selectFrom(s0, s1).add(HIGH3.selectFrom(s0, s1));
    }

    /**
     * Writes a tile's sums (lane {@code 4t + k}: row k, token t) for {@code tokens} tokens to
     * {@code out[outOff + t * outStride + k]}, a quarter vector (four rows) per token.
     */
    private static void store(FloatVector sums, int tokens, float[] out, int outOff, int outStride) {
        switch (STORE) {
            case 0 -> {
                for (int t = 0; t < tokens; t++) {
                    ((FloatVector) sums.reinterpretShape(QUARTER, t)).intoArray(out, outOff + t * outStride);
                }
            }
            case 1 -> {
                for (int t = 0; t < tokens; t++) {
                    sums.slice(4 * t).intoArray(out, outOff + t * outStride, FIRST4);
                }
            }
            default -> {
                float[] tmp = SCRATCH.get();
                sums.intoArray(tmp, 0);
                for (int t = 0; t < tokens; t++) {
                    System.arraycopy(tmp, 4 * t, out, outOff + t * outStride, 4);
                }
            }
        }
    }

    // Bench-only knob while the store is chosen (removed before merging).
    private static final int STORE = Integer.getInteger("cleargate.engine.tileStore", 0);
    private static final jdk.incubator.vector.VectorMask<Float> FIRST4 = USABLE ? F.indexInRange(0, 4) : null;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[LANES]);

    // Bench-only knob while the lane sums are chosen: the tree, or one reduceLanes per accumulator.
    private static final boolean TREE = !"each".equals(System.getProperty("cleargate.engine.laneSums"));

    /** Four rows' sums for one token, one {@code reduceLanes} each, to {@code out[off .. off + 3]}. */
    private static void each(FloatVector a, FloatVector b, FloatVector c, FloatVector d, float[] out, int off) {
        out[off] = a.reduceLanes(VectorOperators.ADD);
        out[off + 1] = b.reduceLanes(VectorOperators.ADD);
        out[off + 2] = c.reduceLanes(VectorOperators.ADD);
        out[off + 3] = d.reduceLanes(VectorOperators.ADD);
    }

    /** F.length() bf16 weights from byte offset {@code at}, widened exactly to f32. */
    private static FloatVector bf16(MemorySegment seg, long at) {
        ShortVector raw = ShortVector.fromMemorySegment(S, seg, at, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) raw.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector f32(MemorySegment seg, long at) {
        return FloatVector.fromMemorySegment(F, seg, at, ByteOrder.LITTLE_ENDIAN);
    }

    /** The products of the columns past the last whole vector ({@code from .. cols}), added to the tile's sums. */
    private static void tails(boolean bf16, MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride,
                              int tokens, int from, int cols, float[] out, int outOff, int outStride) {
        for (int k = 0; k < 4; k++) {
            long row = at + k * rowBytes;
            for (int t = 0; t < tokens; t++) {
                int xo = xOff + t * xStride;
                float sum = out[outOff + t * outStride + k];
                for (int c = from; c < cols; c++) {
                    float wv = bf16 ? Float.intBitsToFloat(seg.get(Tensor.I16, row + c * 2L) << 16) : seg.get(Tensor.F32, row + c * 4L);
                    sum += wv * x[xo + c];
                }
                out[outOff + t * outStride + k] = sum;
            }
        }
    }

    // ---- rows decoded into arrays (products of many tokens, FP8 and int8) -------------------

    /**
     * {@link VectorKernels#dot4x4} with the lane sums made together: rows {@code w0 .. w3} (decoded
     * into arrays) against tokens 0..3 of {@code x}. In a 64-token prefill the 256-column products
     * (q_b, W_UV, the shared expert's down) run sixteen vector steps per tile, against which sixteen
     * separate lane sums were a large part.
     */
    static void arrays4x4(float[] w0, float[] w1, float[] w2, float[] w3, float[] x, int xOff, int xStride, int cols,
                          float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride, x3 = xOff + 3 * xStride;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            FloatVector u = FloatVector.fromArray(F, w0, i);
            FloatVector v = FloatVector.fromArray(F, w1, i);
            FloatVector w = FloatVector.fromArray(F, w2, i);
            FloatVector z = FloatVector.fromArray(F, w3, i);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.fromArray(F, x, x3 + i);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
        }
        if (TREE) {
            store(laneSums(a0, a2, a1, a3, c0, c2, c1, c3, b0, b2, b1, b3, d0, d2, d1, d3), 4, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
            each(a2, b2, c2, d2, out, outOff + 2 * outStride);
            each(a3, b3, c3, d3, out, outOff + 3 * outStride);
        }
        if (i < cols) {
            float[][] rows = {w0, w1, w2, w3};
            for (int k = 0; k < 4; k++) {
                for (int t = 0; t < 4; t++) {
                    int xo = xOff + t * xStride;
                    float sum = out[outOff + t * outStride + k];
                    for (int c = i; c < cols; c++) {
                        sum += rows[k][c] * x[xo + c];
                    }
                    out[outOff + t * outStride + k] = sum;
                }
            }
        }
    }

    // ---- bf16 ----------------------------------------------------------------------------

    /** Rows k = 0..3 (bytes {@code rowBytes} apart from {@code at}) against tokens 0..3: {@code out[outOff + t * outStride + k]}. */
    static void bf16x4(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                       float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride, x3 = xOff + 3 * xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 2L;
            FloatVector u = bf16(seg, r0 + o);
            FloatVector v = bf16(seg, r1 + o);
            FloatVector w = bf16(seg, r2 + o);
            FloatVector z = bf16(seg, r3 + o);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.fromArray(F, x, x3 + i);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
        }
        if (TREE) {
            store(laneSums(a0, a2, a1, a3, c0, c2, c1, c3, b0, b2, b1, b3, d0, d2, d1, d3), 4, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
            each(a2, b2, c2, d2, out, outOff + 2 * outStride);
            each(a3, b3, c3, d3, out, outOff + 3 * outStride);
        }
        if (i < cols) {
            tails(true, seg, at, rowBytes, x, xOff, xStride, 4, i, cols, out, outOff, outStride);
        }
    }

    /** {@link #bf16x4} for three tokens. */
    static void bf16x3(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                       float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 2L;
            FloatVector u = bf16(seg, r0 + o);
            FloatVector v = bf16(seg, r1 + o);
            FloatVector w = bf16(seg, r2 + o);
            FloatVector z = bf16(seg, r3 + o);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
        }
        if (TREE) {
            FloatVector e = FloatVector.zero(F);
            store(laneSums(a0, a2, a1, e, c0, c2, c1, e, b0, b2, b1, e, d0, d2, d1, e), 3, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
            each(a2, b2, c2, d2, out, outOff + 2 * outStride);
        }
        if (i < cols) {
            tails(true, seg, at, rowBytes, x, xOff, xStride, 3, i, cols, out, outOff, outStride);
        }
    }

    /** {@link #bf16x4} for two tokens. */
    static void bf16x2(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                       float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 2L;
            FloatVector u = bf16(seg, r0 + o);
            FloatVector v = bf16(seg, r1 + o);
            FloatVector w = bf16(seg, r2 + o);
            FloatVector z = bf16(seg, r3 + o);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
        }
        if (TREE) {
            FloatVector e = FloatVector.zero(F);
            store(laneSums(a0, e, a1, e, c0, e, c1, e, b0, e, b1, e, d0, e, d1, e), 2, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
        }
        if (i < cols) {
            tails(true, seg, at, rowBytes, x, xOff, xStride, 2, i, cols, out, outOff, outStride);
        }
    }

    // ---- f32 -----------------------------------------------------------------------------

    /** {@link #bf16x4} for f32 rows. */
    static void f32x4(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                      float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride, x3 = xOff + 3 * xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 4L;
            FloatVector u = f32(seg, r0 + o);
            FloatVector v = f32(seg, r1 + o);
            FloatVector w = f32(seg, r2 + o);
            FloatVector z = f32(seg, r3 + o);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.fromArray(F, x, x3 + i);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
        }
        if (TREE) {
            store(laneSums(a0, a2, a1, a3, c0, c2, c1, c3, b0, b2, b1, b3, d0, d2, d1, d3), 4, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
            each(a2, b2, c2, d2, out, outOff + 2 * outStride);
            each(a3, b3, c3, d3, out, outOff + 3 * outStride);
        }
        if (i < cols) {
            tails(false, seg, at, rowBytes, x, xOff, xStride, 4, i, cols, out, outOff, outStride);
        }
    }

    /** {@link #f32x4} for three tokens. */
    static void f32x3(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                      float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 4L;
            FloatVector u = f32(seg, r0 + o);
            FloatVector v = f32(seg, r1 + o);
            FloatVector w = f32(seg, r2 + o);
            FloatVector z = f32(seg, r3 + o);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
        }
        if (TREE) {
            FloatVector e = FloatVector.zero(F);
            store(laneSums(a0, a2, a1, e, c0, c2, c1, e, b0, b2, b1, e, d0, d2, d1, e), 3, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
            each(a2, b2, c2, d2, out, outOff + 2 * outStride);
        }
        if (i < cols) {
            tails(false, seg, at, rowBytes, x, xOff, xStride, 3, i, cols, out, outOff, outStride);
        }
    }

    /** {@link #f32x4} for two tokens. */
    static void f32x2(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                      float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 4L;
            FloatVector u = f32(seg, r0 + o);
            FloatVector v = f32(seg, r1 + o);
            FloatVector w = f32(seg, r2 + o);
            FloatVector z = f32(seg, r3 + o);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
        }
        if (TREE) {
            FloatVector e = FloatVector.zero(F);
            store(laneSums(a0, e, a1, e, c0, e, c1, e, b0, e, b1, e, d0, e, d1, e), 2, out, outOff, outStride);
        } else {
            each(a0, b0, c0, d0, out, outOff);
            each(a1, b1, c1, d1, out, outOff + outStride);
        }
        if (i < cols) {
            tails(false, seg, at, rowBytes, x, xOff, xStride, 2, i, cols, out, outOff, outStride);
        }
    }
}
