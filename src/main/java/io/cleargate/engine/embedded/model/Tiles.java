package io.cleargate.engine.embedded.model;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles of four weight rows against four, two or one tokens whose sums leave the registers
 * through one halving tree instead of one lane reduction per (row, token). A 4x4 tile holds sixteen
 * accumulators; {@code reduceLanes} summed each of them alone (on the EPYC of speed.md 46, 15.7% of bf16
 * prefill's samples). The tree adds them pairwise: each step puts the first halves of two vectors' lane
 * groups side by side in one vector (a two-table permute), their second halves in another, and adds
 * the two; four steps turn sixteen vectors into one whose lane k is accumulator k's sum (15 adds and 30
 * permutes). Only the int permute is used: engine14 measured {@code IntVector.selectFrom(v1, v2)}
 * compiled to one instruction and the float one not. On the Xeon of speed.md 49 prefill gained 3-7% in
 * f32 (every round of three A/B runs); bf16 was not shown better. Every (row, token) is summed in the
 * same order whatever tile made it, and apart from the order in which a vector's lanes are added, as
 * {@link Kernels#dot} sums it. With other than sixteen lanes each accumulator's lanes are summed in
 * order instead. Only loaded with the Vector API.
 */
final class Tiles {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2))
            .withLanes(short.class);
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);
    /** The tree is written for sixteen lanes (AVX-512); otherwise every accumulator is reduced alone. */
    private static final boolean TREE = F.length() == 16;
    private static final IntVector FIRST1 = half(1, 0);
    private static final IntVector SECOND1 = half(1, 1);
    private static final IntVector FIRST2 = half(2, 0);
    private static final IntVector SECOND2 = half(2, 1);
    private static final IntVector FIRST3 = half(3, 0);
    private static final IntVector SECOND3 = half(3, 1);
    private static final IntVector FIRST4 = half(4, 0);
    private static final IntVector SECOND4 = half(4, 1);

    /** Scratch length for a tile's accumulators (sixteen vectors) and then its sums. */
    static final int SUMS = 16 * F.length();

    private Tiles() {}

    /**
     * Lane indices into two concatenated vectors for step {@code step} (1..4) of the tree: its inputs hold
     * groups of {@code g = 16 >> (step - 1)} lanes, one group per accumulator; the output's groups are
     * {@code g / 2} long, the first input's groups first, each the first half ({@code which} 0) or the
     * second half (1) of its input group.
     */
    private static IntVector half(int step, int which) {
        int lanes = F.length();
        int[] idx = new int[lanes];
        int g = Math.max(2, lanes >> (step - 1));
        int groups = lanes / g;
        for (int o = 0; o < lanes; o++) {
            int j = o / (g / 2);
            int k = o % (g / 2);
            int from = j < groups ? j * g : lanes + (j - groups) * g;
            idx[o] = from + k + which * (g / 2);
        }
        return IntVector.fromArray(I, idx, 0);
    }

    // The accumulators leave a kernel through memory: it stores its vectors into the scratch array and
    // calls the tree, which loads them back. Passed as arguments, vectors are boxed unless the callee is
    // inlined, and C2 inlined neither a tree of 700 bytecodes (too big) nor one made of small steps (it
    // stopped inlining them at the kernel's node limit, NodeCountInliningCutoff): either way the tiles
    // ran 4-7 times slower in ExpertTileBench. A vector store and its reload from L1 cost a few cycles.

    /** Sixteen accumulators stored at {@code sums[k * F.length()]}, summed into {@code sums[0 .. 16]} in order of k. */
    private static void sum16(float[] sums) {
        if (!TREE) {
            reduceEach(sums, 16);
            return;
        }
        int len = F.length();
        IntVector p;
        IntVector q;
        p = FloatVector.fromArray(F, sums, 0).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, len).reinterpretAsInts();
        FloatVector s0 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 2 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 3 * len).reinterpretAsInts();
        FloatVector s1 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 4 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 5 * len).reinterpretAsInts();
        FloatVector s2 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 6 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 7 * len).reinterpretAsInts();
        FloatVector s3 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 8 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 9 * len).reinterpretAsInts();
        FloatVector s4 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 10 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 11 * len).reinterpretAsInts();
        FloatVector s5 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 12 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 13 * len).reinterpretAsInts();
        FloatVector s6 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 14 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 15 * len).reinterpretAsInts();
        FloatVector s7 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = s0.reinterpretAsInts();
        q = s1.reinterpretAsInts();
        FloatVector t0 = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        p = s2.reinterpretAsInts();
        q = s3.reinterpretAsInts();
        FloatVector t1 = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        p = s4.reinterpretAsInts();
        q = s5.reinterpretAsInts();
        FloatVector t2 = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        p = s6.reinterpretAsInts();
        q = s7.reinterpretAsInts();
        FloatVector t3 = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        p = t0.reinterpretAsInts();
        q = t1.reinterpretAsInts();
        FloatVector u0 = FIRST3.selectFrom(p, q).reinterpretAsFloats().add(SECOND3.selectFrom(p, q).reinterpretAsFloats());
        p = t2.reinterpretAsInts();
        q = t3.reinterpretAsInts();
        FloatVector u1 = FIRST3.selectFrom(p, q).reinterpretAsFloats().add(SECOND3.selectFrom(p, q).reinterpretAsFloats());
        p = u0.reinterpretAsInts();
        q = u1.reinterpretAsInts();
        FloatVector w = FIRST4.selectFrom(p, q).reinterpretAsFloats().add(SECOND4.selectFrom(p, q).reinterpretAsFloats());
        w.intoArray(sums, 0);
    }

    /** {@link #sum16} for eight accumulators (sums into {@code sums[0 .. 8]}). */
    private static void sum8(float[] sums) {
        if (!TREE) {
            reduceEach(sums, 8);
            return;
        }
        int len = F.length();
        IntVector p;
        IntVector q;
        p = FloatVector.fromArray(F, sums, 0).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, len).reinterpretAsInts();
        FloatVector s0 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 2 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 3 * len).reinterpretAsInts();
        FloatVector s1 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 4 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 5 * len).reinterpretAsInts();
        FloatVector s2 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 6 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 7 * len).reinterpretAsInts();
        FloatVector s3 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = s0.reinterpretAsInts();
        q = s1.reinterpretAsInts();
        FloatVector t0 = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        p = s2.reinterpretAsInts();
        q = s3.reinterpretAsInts();
        FloatVector t1 = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        p = t0.reinterpretAsInts();
        q = t1.reinterpretAsInts();
        FloatVector u = FIRST3.selectFrom(p, q).reinterpretAsFloats().add(SECOND3.selectFrom(p, q).reinterpretAsFloats());
        // Eight groups of two: the last step pairs the vector with itself (lanes 8..15 repeat 0..7).
        p = u.reinterpretAsInts();
        q = u.reinterpretAsInts();
        FloatVector w = FIRST4.selectFrom(p, q).reinterpretAsFloats().add(SECOND4.selectFrom(p, q).reinterpretAsFloats());
        w.intoArray(sums, 0);
    }

    /** {@link #sum16} for four accumulators (sums into {@code sums[0 .. 4]}). */
    private static void sum4(float[] sums) {
        if (!TREE) {
            reduceEach(sums, 4);
            return;
        }
        int len = F.length();
        IntVector p;
        IntVector q;
        p = FloatVector.fromArray(F, sums, 0).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, len).reinterpretAsInts();
        FloatVector s0 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = FloatVector.fromArray(F, sums, 2 * len).reinterpretAsInts();
        q = FloatVector.fromArray(F, sums, 3 * len).reinterpretAsInts();
        FloatVector s1 = FIRST1.selectFrom(p, q).reinterpretAsFloats().add(SECOND1.selectFrom(p, q).reinterpretAsFloats());
        p = s0.reinterpretAsInts();
        q = s1.reinterpretAsInts();
        FloatVector t = FIRST2.selectFrom(p, q).reinterpretAsFloats().add(SECOND2.selectFrom(p, q).reinterpretAsFloats());
        // Four groups of four: the last two steps pair the vector with itself.
        p = t.reinterpretAsInts();
        q = t.reinterpretAsInts();
        FloatVector u = FIRST3.selectFrom(p, q).reinterpretAsFloats().add(SECOND3.selectFrom(p, q).reinterpretAsFloats());
        p = u.reinterpretAsInts();
        q = u.reinterpretAsInts();
        FloatVector w = FIRST4.selectFrom(p, q).reinterpretAsFloats().add(SECOND4.selectFrom(p, q).reinterpretAsFloats());
        w.intoArray(sums, 0);
    }

    /** Without the tree: each accumulator's lanes summed in order (any lane count). */
    private static void reduceEach(float[] sums, int count) {
        int len = F.length();
        for (int k = 0; k < count; k++) {
            float sum = 0f;
            for (int l = 0; l < len; l++) {
                sum += sums[k * len + l];
            }
            sums[k] = sum;
        }
    }

    // ---- f32 rows read where they are mapped -----------------------------------------------

    /**
     * Four f32 weight rows ({@code rowBytes} apart from byte offset {@code at}) against four tokens
     * ({@code xStride} apart from {@code xOff}): {@code out[outOff + t * outStride + r * outStep] = w[r] . x[t]}.
     */
    static void f32x4(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int n,
                      float[] out, int outOff, int outStride, int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        FloatVector d2 = FloatVector.zero(F);
        FloatVector d3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            long o = i * 4L;
            FloatVector u = FloatVector.fromMemorySegment(F, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector v = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector z = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
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
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        a1.intoArray(sums, 4 * F.length());
        b1.intoArray(sums, 5 * F.length());
        c1.intoArray(sums, 6 * F.length());
        d1.intoArray(sums, 7 * F.length());
        a2.intoArray(sums, 8 * F.length());
        b2.intoArray(sums, 9 * F.length());
        c2.intoArray(sums, 10 * F.length());
        d2.intoArray(sums, 11 * F.length());
        a3.intoArray(sums, 12 * F.length());
        b3.intoArray(sums, 13 * F.length());
        c3.intoArray(sums, 14 * F.length());
        d3.intoArray(sums, 15 * F.length());
        sum16(sums);
        storeF32(sums, 4, seg, at, rowBytes, x, xOff, xStride, i, n, out, outOff, outStride, outStep);
    }

    /** {@link #f32x4} for two tokens. */
    static void f32x2(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int n,
                      float[] out, int outOff, int outStride, int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            long o = i * 4L;
            FloatVector u = FloatVector.fromMemorySegment(F, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector v = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector z = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
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
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        a1.intoArray(sums, 4 * F.length());
        b1.intoArray(sums, 5 * F.length());
        c1.intoArray(sums, 6 * F.length());
        d1.intoArray(sums, 7 * F.length());
        sum8(sums);
        storeF32(sums, 2, seg, at, rowBytes, x, xOff, xStride, i, n, out, outOff, outStride, outStep);
    }

    /** {@link #f32x1} for four adjacent outputs (decode's {@code StreamRowsBench} reads rows this way). */
    static void f32x1(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int n, float[] out, int outOff,
                      float[] sums) {
        f32x1(seg, at, rowBytes, x, xOff, n, out, outOff, 1, sums);
    }

    /** {@link #f32x4} for one token: four rows, four FMA chains. */
    static void f32x1(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int n, float[] out, int outOff,
                      int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            long o = i * 4L;
            FloatVector y = FloatVector.fromArray(F, x, xOff + i);
            a0 = FloatVector.fromMemorySegment(F, seg, r0 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a0);
            b0 = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN).fma(y, b0);
            c0 = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN).fma(y, c0);
            d0 = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN).fma(y, d0);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        sum4(sums);
        storeF32(sums, 1, seg, at, rowBytes, x, xOff, 0, i, n, out, outOff, 0, outStep);
    }

    /** Each (row, token)'s sum ({@code sums[4 * t + r]}) plus the products of its columns {@code from .. n}, into out. */
    private static void storeF32(float[] sums, int tokens, MemorySegment seg, long at, long rowBytes, float[] x, int xOff,
                                 int xStride, int from, int n, float[] out, int outOff, int outStride, int outStep) {
        for (int t = 0; t < tokens; t++) {
            int xt = xOff + t * xStride;
            int o = outOff + t * outStride;
            for (int r = 0; r < 4; r++) {
                float sum = sums[4 * t + r];
                long row = at + r * rowBytes;
                for (int k = from; k < n; k++) {
                    sum += seg.get(Tensor.F32, row + k * 4L) * x[xt + k];
                }
                out[o + r * outStep] = sum;
            }
        }
    }

    // ---- bf16 rows read where they are mapped, widened in registers -------------------------

    /** F.length() bf16 weights from byte offset {@code at}, widened exactly to f32. */
    private static FloatVector bf16(MemorySegment seg, long at) {
        ShortVector raw = ShortVector.fromMemorySegment(S, seg, at, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) raw.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** {@link #f32x4} for bf16 rows, each vector widened exactly in registers. */
    static void bf16x4(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int n,
                       float[] out, int outOff, int outStride, int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        FloatVector d2 = FloatVector.zero(F);
        FloatVector d3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
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
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        a1.intoArray(sums, 4 * F.length());
        b1.intoArray(sums, 5 * F.length());
        c1.intoArray(sums, 6 * F.length());
        d1.intoArray(sums, 7 * F.length());
        a2.intoArray(sums, 8 * F.length());
        b2.intoArray(sums, 9 * F.length());
        c2.intoArray(sums, 10 * F.length());
        d2.intoArray(sums, 11 * F.length());
        a3.intoArray(sums, 12 * F.length());
        b3.intoArray(sums, 13 * F.length());
        c3.intoArray(sums, 14 * F.length());
        d3.intoArray(sums, 15 * F.length());
        sum16(sums);
        storeBf16(sums, 4, seg, at, rowBytes, x, xOff, xStride, i, n, out, outOff, outStride, outStep);
    }

    /** {@link #bf16x4} for two tokens. */
    static void bf16x2(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride, int n,
                       float[] out, int outOff, int outStride, int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
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
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        a1.intoArray(sums, 4 * F.length());
        b1.intoArray(sums, 5 * F.length());
        c1.intoArray(sums, 6 * F.length());
        d1.intoArray(sums, 7 * F.length());
        sum8(sums);
        storeBf16(sums, 2, seg, at, rowBytes, x, xOff, xStride, i, n, out, outOff, outStride, outStep);
    }

    /** {@link #bf16x4} for one token: four rows, four FMA chains. */
    static void bf16x1(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int n, float[] out, int outOff,
                       int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            long o = i * 2L;
            FloatVector y = FloatVector.fromArray(F, x, xOff + i);
            a0 = bf16(seg, r0 + o).fma(y, a0);
            b0 = bf16(seg, r1 + o).fma(y, b0);
            c0 = bf16(seg, r2 + o).fma(y, c0);
            d0 = bf16(seg, r3 + o).fma(y, d0);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        sum4(sums);
        storeBf16(sums, 1, seg, at, rowBytes, x, xOff, 0, i, n, out, outOff, 0, outStep);
    }

    /** {@link #storeF32} for bf16 rows. */
    private static void storeBf16(float[] sums, int tokens, MemorySegment seg, long at, long rowBytes, float[] x, int xOff,
                                  int xStride, int from, int n, float[] out, int outOff, int outStride, int outStep) {
        for (int t = 0; t < tokens; t++) {
            int xt = xOff + t * xStride;
            int o = outOff + t * outStride;
            for (int r = 0; r < 4; r++) {
                float sum = sums[4 * t + r];
                long row = at + r * rowBytes;
                for (int k = from; k < n; k++) {
                    sum += Float.intBitsToFloat(seg.get(Tensor.I16, row + k * 2L) << 16) * x[xt + k];
                }
                out[o + r * outStep] = sum;
            }
        }
    }

    // ---- rows decoded into arrays (64-token batches) ----------------------------------------

    /** {@link #f32x4} with the four rows {@code wStride} apart in one array (decoded once for a whole batch, or cached keys). */
    static void arrays4x4(float[] w, int wOff, int wStride, float[] x, int xOff, int xStride, int n,
                          float[] out, int outOff, int outStride, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        FloatVector d2 = FloatVector.zero(F);
        FloatVector d3 = FloatVector.zero(F);
        int w0 = wOff;
        int w1 = wOff + wStride;
        int w2 = wOff + 2 * wStride;
        int w3 = wOff + 3 * wStride;
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector u = FloatVector.fromArray(F, w, w0 + i);
            FloatVector v = FloatVector.fromArray(F, w, w1 + i);
            FloatVector e = FloatVector.fromArray(F, w, w2 + i);
            FloatVector z = FloatVector.fromArray(F, w, w3 + i);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = e.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = e.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = e.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.fromArray(F, x, x3 + i);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = e.fma(y, c3);
            d3 = z.fma(y, d3);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        a1.intoArray(sums, 4 * F.length());
        b1.intoArray(sums, 5 * F.length());
        c1.intoArray(sums, 6 * F.length());
        d1.intoArray(sums, 7 * F.length());
        a2.intoArray(sums, 8 * F.length());
        b2.intoArray(sums, 9 * F.length());
        c2.intoArray(sums, 10 * F.length());
        d2.intoArray(sums, 11 * F.length());
        a3.intoArray(sums, 12 * F.length());
        b3.intoArray(sums, 13 * F.length());
        c3.intoArray(sums, 14 * F.length());
        d3.intoArray(sums, 15 * F.length());
        sum16(sums);
        storeArrays(sums, 4, w, wOff, wStride, x, xOff, xStride, i, n, out, outOff, outStride, 1);
    }

    /** {@link #arrays4x4} for two tokens. */
    static void arrays4x2(float[] w, int wOff, int wStride, float[] x, int xOff, int xStride, int n,
                          float[] out, int outOff, int outStride, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        int w0 = wOff;
        int w1 = wOff + wStride;
        int w2 = wOff + 2 * wStride;
        int w3 = wOff + 3 * wStride;
        int x0 = xOff;
        int x1 = xOff + xStride;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector u = FloatVector.fromArray(F, w, w0 + i);
            FloatVector v = FloatVector.fromArray(F, w, w1 + i);
            FloatVector e = FloatVector.fromArray(F, w, w2 + i);
            FloatVector z = FloatVector.fromArray(F, w, w3 + i);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = e.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = e.fma(y, c1);
            d1 = z.fma(y, d1);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        a1.intoArray(sums, 4 * F.length());
        b1.intoArray(sums, 5 * F.length());
        c1.intoArray(sums, 6 * F.length());
        d1.intoArray(sums, 7 * F.length());
        sum8(sums);
        storeArrays(sums, 2, w, wOff, wStride, x, xOff, xStride, i, n, out, outOff, outStride, 1);
    }

    /** {@link #arrays4x4} for one token. */
    static void arrays4x1(float[] w, int wOff, int wStride, float[] x, int xOff, int n, float[] out, int outOff,
                          int outStep, float[] sums) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        int w0 = wOff;
        int w1 = wOff + wStride;
        int w2 = wOff + 2 * wStride;
        int w3 = wOff + 3 * wStride;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, xOff + i);
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(y, a0);
            b0 = FloatVector.fromArray(F, w, w1 + i).fma(y, b0);
            c0 = FloatVector.fromArray(F, w, w2 + i).fma(y, c0);
            d0 = FloatVector.fromArray(F, w, w3 + i).fma(y, d0);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, F.length());
        c0.intoArray(sums, 2 * F.length());
        d0.intoArray(sums, 3 * F.length());
        sum4(sums);
        storeArrays(sums, 1, w, wOff, wStride, x, xOff, 0, i, n, out, outOff, 0, outStep);
    }

    /** {@link #storeF32} for four rows {@code wStride} apart in one array, their results {@code rowStep} apart in out. */
    private static void storeArrays(float[] sums, int tokens, float[] w, int wOff, int wStride, float[] x, int xOff, int xStride,
                                    int from, int n, float[] out, int outOff, int outStride, int rowStep) {
        for (int t = 0; t < tokens; t++) {
            int xt = xOff + t * xStride;
            int o = outOff + t * outStride;
            for (int r = 0; r < 4; r++) {
                float sum = sums[4 * t + r];
                int row = wOff + r * wStride;
                for (int k = from; k < n; k++) {
                    sum += w[row + k] * x[xt + k];
                }
                out[o + r * rowStep] = sum;
            }
        }
    }
}
