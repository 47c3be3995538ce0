package io.cleargate.engine.embedded.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Four weight rows against two, three or four tokens, whose sixteen (twelve, eight) lane sums are made
 * together. For products of few tokens the rows are read where they are mapped (f32 or bf16), all of a
 * tile's tokens in one pass over them: the tiles of a routed expert in a prefill (about four tokens of
 * a 64-token prompt, the rest spread over one to ten). For products of many tokens (and FP8/int8
 * weights) the rows come decoded into arrays ({@link #arrays4x4}).
 *
 * <p>The lane sums: a tree of two-vector permutes and adds (level s folds two vectors, each holding
 * 2^s accumulators' partial sums in groups of 16 >> s lanes, into one whose groups are half as wide),
 * 45 vector operations for sixteen sums where sixteen {@code reduceLanes} cost about three times as
 * many; for the 256-column products (the experts' down projections, q_b, W_UV: sixteen vector steps
 * per row) the separate sums were a large part of a tile. Everything that handles vectors after the
 * loop is written out in each tile, not in helpers: C2 stops inlining a tile's helpers once the
 * Vector API's own inlining has spent its budget, and a helper that is not inlined gets its vector
 * arguments boxed (engine6's sixteen-argument fold, and this class's first version, ran 4-20 times
 * slower for that reason). A sum is the same tree over the same lanes as {@code reduceLanes} makes,
 * in another order of its additions, so a (row, token) may differ from
 * {@link VectorKernels#dotF32Single} by the rounding of a few additions (~1e-7 relative), not by a term.
 *
 * <p>Only used when the preferred float vector has {@link #LANES} lanes (AVX-512); otherwise
 * {@link Kernels} keeps the tiles of {@link VectorKernels}. The tile methods are generated from one
 * template (the row loads differ by dtype, the accumulators and stores by the number of tokens).
 */
final class LaneSumTiles {

    static final int LANES = 16;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Whether these tiles can run: sixteen float lanes. */
    static final boolean USABLE = F.length() == LANES;
    private static final VectorSpecies<Short> S = USABLE ? ShortVector.SPECIES_256 : ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    /*
     * Index vectors of the tree: at level s, output lane p of folding X and Y takes, for group
     * q = p / g of g = 16 >> s lanes, X's group q in its first half and Y's in its second, and adds
     * each group's two halves (LOW picks the first half's lane, HIGH the second's; indices of Y are
     * 16 higher, as selectFrom(X, Y) numbers them). A tile feeds row k's accumulator for token t at
     * the position whose four-bit reversal is 4t + k, which leaves that sum in lane 4t + k.
     */
    private static final FloatVector LOW0 = fold(0, false);
    private static final FloatVector HIGH0 = fold(0, true);
    private static final FloatVector LOW1 = fold(1, false);
    private static final FloatVector HIGH1 = fold(1, true);
    private static final FloatVector LOW2 = fold(2, false);
    private static final FloatVector HIGH2 = fold(2, true);
    private static final FloatVector LOW3 = fold(3, false);
    private static final FloatVector HIGH3 = fold(3, true);
    /** Lanes 0..3 (one token's four rows). */
    private static final VectorMask<Float> FIRST4 = USABLE ? F.indexInRange(0, 4) : null;
    /** Token t's four sums (lanes 4t .. 4t + 3) moved to lanes 0..3. */
    private static final FloatVector TOKEN1 = shift(4);
    private static final FloatVector TOKEN2 = shift(8);
    private static final FloatVector TOKEN3 = shift(12);

    // Bench-only knob: each tile touches the next tile's rows as it goes (-Dcleargate.engine.touchAhead=true).
    private static final boolean TOUCH = Boolean.getBoolean("cleargate.engine.touchAhead");
    /** Written only if the touches' sum is 2^30 (never in practice), so C2 keeps the touching loads. */
    static int sink;

    // Bench-only knob while the lane sums are chosen: the tree, or one reduceLanes per accumulator.
    private static final boolean TREE = !"each".equals(System.getProperty("cleargate.engine.laneSums"));

    private LaneSumTiles() {}

    private static FloatVector fold(int level, boolean high) {
        if (!USABLE) {
            return null;
        }
        int g = LANES >> level;
        float[] index = new float[LANES];
        for (int p = 0; p < LANES; p++) {
            int q = p / g;
            int within = p % g;
            boolean fromX = within < g / 2;
            int lane = q * g + (fromX ? within : within - g / 2) + (fromX ? 0 : LANES);
            index[p] = high ? lane + g / 2 : lane;
        }
        return FloatVector.fromArray(F, index, 0);
    }

    private static FloatVector shift(int by) {
        if (!USABLE) {
            return null;
        }
        float[] index = new float[LANES];
        for (int p = 0; p < LANES; p++) {
            index[p] = (p + by) % LANES;
        }
        return FloatVector.fromArray(F, index, 0);
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

    /** {@link #tails} for rows in arrays. */
    private static void arrayTails(float[] w0, float[] w1, float[] w2, float[] w3, float[] x, int xOff, int xStride,
                                   int from, int cols, float[] out, int outOff, int outStride) {
        float[][] rows = {w0, w1, w2, w3};
        for (int k = 0; k < 4; k++) {
            for (int t = 0; t < 4; t++) {
                int xo = xOff + t * xStride;
                float sum = out[outOff + t * outStride + k];
                for (int c = from; c < cols; c++) {
                    sum += rows[k][c] * x[xo + c];
                }
                out[outOff + t * outStride + k] = sum;
            }
        }
    }

    // ---- rows decoded into arrays (products of many tokens, FP8 and int8) -------------------

    /** Rows {@code w0 .. w3} against tokens 0..3 of {@code x}: {@code out[outOff + t * outStride + k]}. */
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
            FloatVector s00 = LOW0.selectFrom(a0, a2).add(HIGH0.selectFrom(a0, a2));
            FloatVector s01 = LOW0.selectFrom(a1, a3).add(HIGH0.selectFrom(a1, a3));
            FloatVector s02 = LOW0.selectFrom(c0, c2).add(HIGH0.selectFrom(c0, c2));
            FloatVector s03 = LOW0.selectFrom(c1, c3).add(HIGH0.selectFrom(c1, c3));
            FloatVector s04 = LOW0.selectFrom(b0, b2).add(HIGH0.selectFrom(b0, b2));
            FloatVector s05 = LOW0.selectFrom(b1, b3).add(HIGH0.selectFrom(b1, b3));
            FloatVector s06 = LOW0.selectFrom(d0, d2).add(HIGH0.selectFrom(d0, d2));
            FloatVector s07 = LOW0.selectFrom(d1, d3).add(HIGH0.selectFrom(d1, d3));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
            TOKEN2.selectFrom(sums).intoArray(out, outOff + 2 * outStride, FIRST4);
            TOKEN3.selectFrom(sums).intoArray(out, outOff + 3 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride] = a2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 1] = b2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 2] = c2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 3] = d2.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride] = a3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 1] = b3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 2] = c3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 3] = d3.reduceLanes(VectorOperators.ADD);
        }
        if (i < cols) {
            arrayTails(w0, w1, w2, w3, x, xOff, xStride, i, cols, out, outOff, outStride);
        }
    }

    // ---- bf16 rows read where they are mapped --------------------------------------------

    /** Rows k = 0..3 (bytes {@code rowBytes} apart from {@code at}) against tokens 0..3: {@code out[outOff + t * outStride + k]}. */
    static void bf16x4(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                       float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride, x3 = xOff + 3 * xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        // The next four rows, or these again where the tensor ends (only the timing differs).
        long ahead = at + 8 * rowBytes <= seg.byteSize() ? at + 4 * rowBytes : at;
        int touched = 0;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 2L;
            FloatVector u = ((IntVector) ShortVector.fromMemorySegment(S, seg, r0 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v = ((IntVector) ShortVector.fromMemorySegment(S, seg, r1 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w = ((IntVector) ShortVector.fromMemorySegment(S, seg, r2 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector z = ((IntVector) ShortVector.fromMemorySegment(S, seg, r3 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            if (TOUCH && (i & 16) == 0) {
                touched += seg.get(ValueLayout.JAVA_BYTE, ahead + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + rowBytes + o)
                        + seg.get(ValueLayout.JAVA_BYTE, ahead + 2 * rowBytes + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + 3 * rowBytes + o);
            }
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
            FloatVector s00 = LOW0.selectFrom(a0, a2).add(HIGH0.selectFrom(a0, a2));
            FloatVector s01 = LOW0.selectFrom(a1, a3).add(HIGH0.selectFrom(a1, a3));
            FloatVector s02 = LOW0.selectFrom(c0, c2).add(HIGH0.selectFrom(c0, c2));
            FloatVector s03 = LOW0.selectFrom(c1, c3).add(HIGH0.selectFrom(c1, c3));
            FloatVector s04 = LOW0.selectFrom(b0, b2).add(HIGH0.selectFrom(b0, b2));
            FloatVector s05 = LOW0.selectFrom(b1, b3).add(HIGH0.selectFrom(b1, b3));
            FloatVector s06 = LOW0.selectFrom(d0, d2).add(HIGH0.selectFrom(d0, d2));
            FloatVector s07 = LOW0.selectFrom(d1, d3).add(HIGH0.selectFrom(d1, d3));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
            TOKEN2.selectFrom(sums).intoArray(out, outOff + 2 * outStride, FIRST4);
            TOKEN3.selectFrom(sums).intoArray(out, outOff + 3 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride] = a2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 1] = b2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 2] = c2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 3] = d2.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride] = a3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 1] = b3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 2] = c3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 3] = d3.reduceLanes(VectorOperators.ADD);
        }
        if (touched == 1 << 30) {
            sink = touched; // never true in practice: keeps the touches from being dropped as unused
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
        // The next four rows, or these again where the tensor ends (only the timing differs).
        long ahead = at + 8 * rowBytes <= seg.byteSize() ? at + 4 * rowBytes : at;
        int touched = 0;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 2L;
            FloatVector u = ((IntVector) ShortVector.fromMemorySegment(S, seg, r0 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v = ((IntVector) ShortVector.fromMemorySegment(S, seg, r1 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w = ((IntVector) ShortVector.fromMemorySegment(S, seg, r2 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector z = ((IntVector) ShortVector.fromMemorySegment(S, seg, r3 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            if (TOUCH && (i & 16) == 0) {
                touched += seg.get(ValueLayout.JAVA_BYTE, ahead + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + rowBytes + o)
                        + seg.get(ValueLayout.JAVA_BYTE, ahead + 2 * rowBytes + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + 3 * rowBytes + o);
            }
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
            FloatVector s00 = LOW0.selectFrom(a0, a2).add(HIGH0.selectFrom(a0, a2));
            FloatVector s01 = LOW0.selectFrom(a1, e).add(HIGH0.selectFrom(a1, e));
            FloatVector s02 = LOW0.selectFrom(c0, c2).add(HIGH0.selectFrom(c0, c2));
            FloatVector s03 = LOW0.selectFrom(c1, e).add(HIGH0.selectFrom(c1, e));
            FloatVector s04 = LOW0.selectFrom(b0, b2).add(HIGH0.selectFrom(b0, b2));
            FloatVector s05 = LOW0.selectFrom(b1, e).add(HIGH0.selectFrom(b1, e));
            FloatVector s06 = LOW0.selectFrom(d0, d2).add(HIGH0.selectFrom(d0, d2));
            FloatVector s07 = LOW0.selectFrom(d1, e).add(HIGH0.selectFrom(d1, e));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
            TOKEN2.selectFrom(sums).intoArray(out, outOff + 2 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride] = a2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 1] = b2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 2] = c2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 3] = d2.reduceLanes(VectorOperators.ADD);
        }
        if (touched == 1 << 30) {
            sink = touched; // never true in practice: keeps the touches from being dropped as unused
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
        // The next four rows, or these again where the tensor ends (only the timing differs).
        long ahead = at + 8 * rowBytes <= seg.byteSize() ? at + 4 * rowBytes : at;
        int touched = 0;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 2L;
            FloatVector u = ((IntVector) ShortVector.fromMemorySegment(S, seg, r0 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v = ((IntVector) ShortVector.fromMemorySegment(S, seg, r1 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w = ((IntVector) ShortVector.fromMemorySegment(S, seg, r2 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector z = ((IntVector) ShortVector.fromMemorySegment(S, seg, r3 + o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            if (TOUCH && (i & 16) == 0) {
                touched += seg.get(ValueLayout.JAVA_BYTE, ahead + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + rowBytes + o)
                        + seg.get(ValueLayout.JAVA_BYTE, ahead + 2 * rowBytes + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + 3 * rowBytes + o);
            }
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
            FloatVector s00 = LOW0.selectFrom(a0, e).add(HIGH0.selectFrom(a0, e));
            FloatVector s01 = LOW0.selectFrom(a1, e).add(HIGH0.selectFrom(a1, e));
            FloatVector s02 = LOW0.selectFrom(c0, e).add(HIGH0.selectFrom(c0, e));
            FloatVector s03 = LOW0.selectFrom(c1, e).add(HIGH0.selectFrom(c1, e));
            FloatVector s04 = LOW0.selectFrom(b0, e).add(HIGH0.selectFrom(b0, e));
            FloatVector s05 = LOW0.selectFrom(b1, e).add(HIGH0.selectFrom(b1, e));
            FloatVector s06 = LOW0.selectFrom(d0, e).add(HIGH0.selectFrom(d0, e));
            FloatVector s07 = LOW0.selectFrom(d1, e).add(HIGH0.selectFrom(d1, e));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
        }
        if (touched == 1 << 30) {
            sink = touched; // never true in practice: keeps the touches from being dropped as unused
        }
        if (i < cols) {
            tails(true, seg, at, rowBytes, x, xOff, xStride, 2, i, cols, out, outOff, outStride);
        }
    }

    // ---- f32 rows read where they are mapped ---------------------------------------------

    /** {@link #bf16x4} for f32 rows. */
    static void f32x4(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int cols,
                       float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F), d1 = FloatVector.zero(F), d2 = FloatVector.zero(F), d3 = FloatVector.zero(F);
        int x0 = xOff, x1 = xOff + xStride, x2 = xOff + 2 * xStride, x3 = xOff + 3 * xStride;
        long r0 = at, r1 = at + rowBytes, r2 = at + 2 * rowBytes, r3 = at + 3 * rowBytes;
        // The next four rows, or these again where the tensor ends (only the timing differs).
        long ahead = at + 8 * rowBytes <= seg.byteSize() ? at + 4 * rowBytes : at;
        int touched = 0;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 4L;
            FloatVector u = FloatVector.fromMemorySegment(F, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector v = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector z = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            if (TOUCH) {
                touched += seg.get(ValueLayout.JAVA_BYTE, ahead + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + rowBytes + o)
                        + seg.get(ValueLayout.JAVA_BYTE, ahead + 2 * rowBytes + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + 3 * rowBytes + o);
            }
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
            FloatVector s00 = LOW0.selectFrom(a0, a2).add(HIGH0.selectFrom(a0, a2));
            FloatVector s01 = LOW0.selectFrom(a1, a3).add(HIGH0.selectFrom(a1, a3));
            FloatVector s02 = LOW0.selectFrom(c0, c2).add(HIGH0.selectFrom(c0, c2));
            FloatVector s03 = LOW0.selectFrom(c1, c3).add(HIGH0.selectFrom(c1, c3));
            FloatVector s04 = LOW0.selectFrom(b0, b2).add(HIGH0.selectFrom(b0, b2));
            FloatVector s05 = LOW0.selectFrom(b1, b3).add(HIGH0.selectFrom(b1, b3));
            FloatVector s06 = LOW0.selectFrom(d0, d2).add(HIGH0.selectFrom(d0, d2));
            FloatVector s07 = LOW0.selectFrom(d1, d3).add(HIGH0.selectFrom(d1, d3));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
            TOKEN2.selectFrom(sums).intoArray(out, outOff + 2 * outStride, FIRST4);
            TOKEN3.selectFrom(sums).intoArray(out, outOff + 3 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride] = a2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 1] = b2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 2] = c2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 3] = d2.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride] = a3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 1] = b3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 2] = c3.reduceLanes(VectorOperators.ADD);
            out[outOff + 3 * outStride + 3] = d3.reduceLanes(VectorOperators.ADD);
        }
        if (touched == 1 << 30) {
            sink = touched; // never true in practice: keeps the touches from being dropped as unused
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
        // The next four rows, or these again where the tensor ends (only the timing differs).
        long ahead = at + 8 * rowBytes <= seg.byteSize() ? at + 4 * rowBytes : at;
        int touched = 0;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 4L;
            FloatVector u = FloatVector.fromMemorySegment(F, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector v = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector z = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            if (TOUCH) {
                touched += seg.get(ValueLayout.JAVA_BYTE, ahead + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + rowBytes + o)
                        + seg.get(ValueLayout.JAVA_BYTE, ahead + 2 * rowBytes + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + 3 * rowBytes + o);
            }
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
            FloatVector s00 = LOW0.selectFrom(a0, a2).add(HIGH0.selectFrom(a0, a2));
            FloatVector s01 = LOW0.selectFrom(a1, e).add(HIGH0.selectFrom(a1, e));
            FloatVector s02 = LOW0.selectFrom(c0, c2).add(HIGH0.selectFrom(c0, c2));
            FloatVector s03 = LOW0.selectFrom(c1, e).add(HIGH0.selectFrom(c1, e));
            FloatVector s04 = LOW0.selectFrom(b0, b2).add(HIGH0.selectFrom(b0, b2));
            FloatVector s05 = LOW0.selectFrom(b1, e).add(HIGH0.selectFrom(b1, e));
            FloatVector s06 = LOW0.selectFrom(d0, d2).add(HIGH0.selectFrom(d0, d2));
            FloatVector s07 = LOW0.selectFrom(d1, e).add(HIGH0.selectFrom(d1, e));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
            TOKEN2.selectFrom(sums).intoArray(out, outOff + 2 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride] = a2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 1] = b2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 2] = c2.reduceLanes(VectorOperators.ADD);
            out[outOff + 2 * outStride + 3] = d2.reduceLanes(VectorOperators.ADD);
        }
        if (touched == 1 << 30) {
            sink = touched; // never true in practice: keeps the touches from being dropped as unused
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
        // The next four rows, or these again where the tensor ends (only the timing differs).
        long ahead = at + 8 * rowBytes <= seg.byteSize() ? at + 4 * rowBytes : at;
        int touched = 0;
        int i = 0;
        int bound = F.loopBound(cols);
        for (; i < bound; i += LANES) {
            long o = i * 4L;
            FloatVector u = FloatVector.fromMemorySegment(F, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector v = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector z = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            if (TOUCH) {
                touched += seg.get(ValueLayout.JAVA_BYTE, ahead + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + rowBytes + o)
                        + seg.get(ValueLayout.JAVA_BYTE, ahead + 2 * rowBytes + o) + seg.get(ValueLayout.JAVA_BYTE, ahead + 3 * rowBytes + o);
            }
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
            FloatVector s00 = LOW0.selectFrom(a0, e).add(HIGH0.selectFrom(a0, e));
            FloatVector s01 = LOW0.selectFrom(a1, e).add(HIGH0.selectFrom(a1, e));
            FloatVector s02 = LOW0.selectFrom(c0, e).add(HIGH0.selectFrom(c0, e));
            FloatVector s03 = LOW0.selectFrom(c1, e).add(HIGH0.selectFrom(c1, e));
            FloatVector s04 = LOW0.selectFrom(b0, e).add(HIGH0.selectFrom(b0, e));
            FloatVector s05 = LOW0.selectFrom(b1, e).add(HIGH0.selectFrom(b1, e));
            FloatVector s06 = LOW0.selectFrom(d0, e).add(HIGH0.selectFrom(d0, e));
            FloatVector s07 = LOW0.selectFrom(d1, e).add(HIGH0.selectFrom(d1, e));
            FloatVector s10 = LOW1.selectFrom(s00, s01).add(HIGH1.selectFrom(s00, s01));
            FloatVector s11 = LOW1.selectFrom(s02, s03).add(HIGH1.selectFrom(s02, s03));
            FloatVector s12 = LOW1.selectFrom(s04, s05).add(HIGH1.selectFrom(s04, s05));
            FloatVector s13 = LOW1.selectFrom(s06, s07).add(HIGH1.selectFrom(s06, s07));
            FloatVector s20 = LOW2.selectFrom(s10, s11).add(HIGH2.selectFrom(s10, s11));
            FloatVector s21 = LOW2.selectFrom(s12, s13).add(HIGH2.selectFrom(s12, s13));
            FloatVector sums = LOW3.selectFrom(s20, s21).add(HIGH3.selectFrom(s20, s21));
            sums.intoArray(out, outOff, FIRST4);
            TOKEN1.selectFrom(sums).intoArray(out, outOff + 1 * outStride, FIRST4);
        } else {
            out[outOff] = a0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1] = b0.reduceLanes(VectorOperators.ADD);
            out[outOff + 2] = c0.reduceLanes(VectorOperators.ADD);
            out[outOff + 3] = d0.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride] = a1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 1] = b1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 2] = c1.reduceLanes(VectorOperators.ADD);
            out[outOff + 1 * outStride + 3] = d1.reduceLanes(VectorOperators.ADD);
        }
        if (touched == 1 << 30) {
            sink = touched; // never true in practice: keeps the touches from being dropped as unused
        }
        if (i < cols) {
            tails(false, seg, at, rowBytes, x, xOff, xStride, 2, i, cols, out, outOff, outStride);
        }
    }
}
