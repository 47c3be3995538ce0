package io.cleargate.engine.embedded.model;

import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of {@link Kernels}' inner loops. Only loaded when the incubator module is
 * present. Assumes little-endian weights (safetensors) and that a short vector of half the bit
 * size has as many lanes as the float vector (true for every species).
 */
final class VectorKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2))
            .withLanes(short.class);
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);
    /** A byte vector with as many lanes as F, for FP8 codes (may be smaller than 64 bits: then unused). */
    private static final VectorSpecies<Byte> B = F.length() >= 8
            ? VectorShape.forBitSize(F.length() * 8).withLanes(byte.class) : null;
    /** e4m3 bits shifted into an f32: sign to bit 31, exponent and mantissa to bits 20..26 (see {@link Fp8}). */
    private static final int FP8_MASK = 0x87F00000;

    static {
        assert S.length() == F.length() : "short and float species must have the same lane count";
    }

    private VectorKernels() {}

    static float dot(Tensor t, long start, float[] x, int xOff, int n) {
        return switch (t.dtype()) {
            case F32 -> dotF32(t, start, x, xOff, n);
            case BF16 -> S.length() == F.length() ? dotBf16(t, start, x, xOff, n) : Kernels.scalarDot(t, start, x, xOff, n);
            case F16 -> Kernels.scalarDot(t, start, x, xOff, n);
            case F8_E4M3, I8 -> dotFp8(t, start, x, xOff, n);
        };
    }

    /**
     * Unscaled FP8 codes dotted with {@code x}: each code is widened to an int, shifted into f32
     * bits and multiplied by 2^120, exact for normal and subnormal codes alike ({@link Fp8}).
     */
    static float dotFp8(Tensor t, long start, float[] x, int xOff, int n) {
        if (B == null) {
            return Kernels.scalarDot(t, start, x, xOff, n);
        }
        var seg = t.data();
        DType dtype = t.dtype();
        int len = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * len <= n; i += 2 * len) {
            a0 = codes(dtype, seg, start + i).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = codes(dtype, seg, start + i + len).fma(FloatVector.fromArray(F, x, xOff + i + len), a1);
        }
        int bound = F.loopBound(n);
        for (; i < bound; i += len) {
            a0 = codes(dtype, seg, start + i).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
    }

    static void axpyFp8(Tensor t, long start, float a, float[] out, int outOff, int n) {
        if (B == null) {
            for (int i = 0; i < n; i++) {
                out[outOff + i] += a * t.get(start + i);
            }
            return;
        }
        var seg = t.data();
        FloatVector va = FloatVector.broadcast(F, a);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            codes(t.dtype(), seg, start + i).fma(va, FloatVector.fromArray(F, out, outOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] += a * t.get(start + i);
        }
    }

    /** F.length() one-byte codes (FP8 or int8) from byte offset {@code at}, as floats before the block scale. */
    private static FloatVector codes(DType dtype, java.lang.foreign.MemorySegment seg, long at) {
        ByteVector raw = ByteVector.fromMemorySegment(B, seg, at, ByteOrder.LITTLE_ENDIAN);
        IntVector ints = (IntVector) raw.convertShape(VectorOperators.B2I, I, 0);
        if (dtype == DType.I8) {
            return (FloatVector) ints.convert(VectorOperators.I2F, 0);
        }
        return ints.lanewise(VectorOperators.LSHL, 20).and(FP8_MASK).reinterpretAsFloats().mul(Fp8.RESCALE);
    }

    /**
     * Four independent accumulators: decode streams each weight once, and one FMA chain would hold a
     * core to one vector per FMA latency with few loads in flight (the JFR profile of decode had 70%
     * of its samples on this loop's load).
     */
    private static float dotF32(Tensor t, long start, float[] x, int xOff, int n) {
        var seg = t.data();
        long base = start * 4;
        int len = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 4 * len <= n; i += 4 * len) {
            long at = base + i * 4L;
            a0 = FloatVector.fromMemorySegment(F, seg, at, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, at + 4L * len, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i + len), a1);
            a2 = FloatVector.fromMemorySegment(F, seg, at + 8L * len, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i + 2 * len), a2);
            a3 = FloatVector.fromMemorySegment(F, seg, at + 12L * len, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i + 3 * len), a3);
        }
        int bound = F.loopBound(n);
        for (; i < bound; i += len) {
            a0 = FloatVector.fromMemorySegment(F, seg, base + i * 4L, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), a0);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
    }

    /** bf16 is the top half of an f32: widen each short to an int, shift it up 16 bits, reinterpret. Four accumulators as in {@link #dotF32}. */
    private static float dotBf16(Tensor t, long start, float[] x, int xOff, int n) {
        var seg = t.data();
        long base = start * 2;
        int len = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 4 * len <= n; i += 4 * len) {
            long at = base + i * 2L;
            a0 = bf16(seg, at).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = bf16(seg, at + 2L * len).fma(FloatVector.fromArray(F, x, xOff + i + len), a1);
            a2 = bf16(seg, at + 4L * len).fma(FloatVector.fromArray(F, x, xOff + i + 2 * len), a2);
            a3 = bf16(seg, at + 6L * len).fma(FloatVector.fromArray(F, x, xOff + i + 3 * len), a3);
        }
        int bound = F.loopBound(n);
        for (; i < bound; i += len) {
            a0 = bf16(seg, base + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
    }

    /** bf16 weights per paired block: one int vector holds 2 * F.length() of them (see {@link #dotBf16Rows4}). */
    static final int BF16_BLOCK = 2 * F.length();

    /**
     * {@code x[xOff .. xOff + n]} rearranged for {@link #dotBf16Rows4}: within each block of
     * {@link #BF16_BLOCK}, the even elements first, then the odd ones (a partial last block is left out),
     * into {@code paired} (at least {@code n} long), which it returns.
     */
    static float[] pairBf16(float[] x, int xOff, int n, float[] paired) {
        int len = F.length();
        // Two vectors of x in, the even lanes and the odd lanes out (one two-table permute each): the
        // scalar loop this replaces was 6.5% of bf16 decode, run once per chunk of rows.
        for (int i = 0; i + BF16_BLOCK <= n; i += BF16_BLOCK) {
            FloatVector lo = FloatVector.fromArray(F, x, xOff + i);
            FloatVector hi = FloatVector.fromArray(F, x, xOff + i + len);
            EVEN_LANES.selectFrom(lo, hi).intoArray(paired, i);
            ODD_LANES.selectFrom(lo, hi).intoArray(paired, i + len);
        }
        return paired;
    }

    /** Lane indices 0, 2, 4, .. and 1, 3, 5, .. into the concatenation of two vectors (for {@link #pairBf16}). */
    private static final FloatVector EVEN_LANES = lanes(0);
    private static final FloatVector ODD_LANES = lanes(1);

    private static FloatVector lanes(int first) {
        float[] idx = new float[F.length()];
        for (int k = 0; k < idx.length; k++) {
            idx[k] = first + 2 * k;
        }
        return FloatVector.fromArray(F, idx, 0);
    }

    /** {@code sum} plus the products of the bf16 weights {@code from .. n} of the row at byte offset {@code row} with x. */
    private static float bf16Tail(float sum, java.lang.foreign.MemorySegment seg, long row, float[] x, int xOff, int from, int n) {
        for (int k = from; k < n; k++) {
            sum += Float.intBitsToFloat(seg.get(Tensor.I16, row + k * 2L) << 16) * x[xOff + k];
        }
        return sum;
    }

    /** F.length() bf16 weights from byte offset {@code at}, widened exactly to f32. */
    private static FloatVector bf16(java.lang.foreign.MemorySegment seg, long at) {
        ShortVector raw = ShortVector.fromMemorySegment(S, seg, at, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) raw.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static void axpyF32(Tensor t, long start, float a, float[] out, int outOff, int n) {
        var seg = t.data();
        long base = start * 4;
        FloatVector va = FloatVector.broadcast(F, a);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, seg, base + i * 4L, ByteOrder.LITTLE_ENDIAN);
            w.fma(va, FloatVector.fromArray(F, out, outOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] += a * t.get(start + i);
        }
    }

    /** {@code out[outOff ..] += a * W} for bf16 weights, widened in registers like {@link #dotBf16}. */
    static void axpyBf16(Tensor t, long start, float a, float[] out, int outOff, int n) {
        int i = 0;
        if (S.length() == F.length()) {
            var seg = t.data();
            long base = start * 2;
            FloatVector va = FloatVector.broadcast(F, a);
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                ShortVector raw = ShortVector.fromMemorySegment(S, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
                FloatVector w = ((IntVector) raw.convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w.fma(va, FloatVector.fromArray(F, out, outOff + i)).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            out[outOff + i] += a * t.get(start + i);
        }
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    static void axpy(float a, float[] x, int xOff, float[] out, int outOff, int n) {
        FloatVector va = FloatVector.broadcast(F, a);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, out, outOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = Math.fma(a, x[xOff + i], out[outOff + i]); // fused like the vector lanes: no result depends on alignment
        }
    }

    static void decodeFp8(Tensor t, long start, float scale, float[] out, int outOff, int n) {
        var seg = t.data();
        int i = 0;
        if (B != null) {
            FloatVector vs = FloatVector.broadcast(F, scale);
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                codes(t.dtype(), seg, start + i).mul(vs).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            out[outOff + i] = t.get(start + i) * scale;
        }
    }

    static void decodeBf16(Tensor t, long start, float[] out, int outOff, int n) {
        var seg = t.data();
        long base = start * 2;
        int i = 0;
        if (S.length() == F.length()) {
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                ShortVector raw = ShortVector.fromMemorySegment(S, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
                IntVector bits = (IntVector) raw.convertShape(VectorOperators.S2I, I, 0);
                bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            out[outOff + i] = t.get(start + i);
        }
    }

    /** One weight row against four activation rows: each weight vector is loaded once for four FMAs. */
    static void dot4(float[] row, float[] x, int xOff, int xStride, int n, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromArray(F, row, i);
            a0 = w.fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = w.fma(FloatVector.fromArray(F, x, x1 + i), a1);
            a2 = w.fma(FloatVector.fromArray(F, x, x2 + i), a2);
            a3 = w.fma(FloatVector.fromArray(F, x, x3 + i), a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float w = row[i];
            s0 += w * x[x0 + i];
            s1 += w * x[x1 + i];
            s2 += w * x[x2 + i];
            s3 += w * x[x3 + i];
        }
        out[outOff] = s0;
        out[outOff + outStride] = s1;
        out[outOff + 2 * outStride] = s2;
        out[outOff + 3 * outStride] = s3;
    }

    /** Two weight rows against four activation rows: eight accumulators, each loaded vector used twice or four times. */
    static void dot2x4(float[] row0, float[] row1, float[] x, int xOff, int xStride, int n, float[] out, int outOff,
                       int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromArray(F, row0, i);
            FloatVector v = FloatVector.fromArray(F, row1, i);
            FloatVector y = FloatVector.fromArray(F, x, x0 + i);
            a0 = w.fma(y, a0);
            b0 = v.fma(y, b0);
            y = FloatVector.fromArray(F, x, x1 + i);
            a1 = w.fma(y, a1);
            b1 = v.fma(y, b1);
            y = FloatVector.fromArray(F, x, x2 + i);
            a2 = w.fma(y, a2);
            b2 = v.fma(y, b2);
            y = FloatVector.fromArray(F, x, x3 + i);
            a3 = w.fma(y, a3);
            b3 = v.fma(y, b3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
        float t0 = b0.reduceLanes(VectorOperators.ADD);
        float t1 = b1.reduceLanes(VectorOperators.ADD);
        float t2 = b2.reduceLanes(VectorOperators.ADD);
        float t3 = b3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float w = row0[i];
            float v = row1[i];
            s0 += w * x[x0 + i];
            s1 += w * x[x1 + i];
            s2 += w * x[x2 + i];
            s3 += w * x[x3 + i];
            t0 += v * x[x0 + i];
            t1 += v * x[x1 + i];
            t2 += v * x[x2 + i];
            t3 += v * x[x3 + i];
        }
        out[outOff] = s0;
        out[outOff + outStride] = s1;
        out[outOff + 2 * outStride] = s2;
        out[outOff + 3 * outStride] = s3;
        out[outOff + 1] = t0;
        out[outOff + 1 + outStride] = t1;
        out[outOff + 1 + 2 * outStride] = t2;
        out[outOff + 1 + 3 * outStride] = t3;
    }

    /** One bf16 row read in place, summed as {@link #dot} sums the widened row. */
    static float dotBf16Single(java.lang.foreign.MemorySegment seg, long row, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = bf16(seg, row + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        return bf16Tail(acc.reduceLanes(VectorOperators.ADD), seg, row, x, xOff, i, n);
    }

    /**
     * Four bf16 rows at byte offsets {@code at}, {@code at + rowBytes}, .. dotted with x, their sums into
     * {@code four[0..3]}; with {@code rowBytes} 0 the same row four times (the copies read from L1), so
     * that a row left over by a split is summed by the same steps as every other. x is paired by
     * {@link #pairBf16}, so no widening instructions are needed
     * instructions: one int-vector load holds two bf16 per lane, the even one (low half) becomes an f32
     * by a left shift and the odd one (high half) by masking the low half away; they meet x's even and
     * odd elements. Two FMA chains a row (even and odd weights); the last partial block one by one.
     */
    static void dotBf16Rows4(java.lang.foreign.MemorySegment seg, long at, long rowBytes, float[] paired, float[] x, int xOff, int n,
                             float[] four) {
        int len = F.length();
        int block = BF16_BLOCK;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        for (; i + block <= n; i += block) {
            long o = i * 2L;
            FloatVector even = FloatVector.fromArray(F, paired, i);
            FloatVector odd = FloatVector.fromArray(F, paired, i + len);
            IntVector v0 = IntVector.fromMemorySegment(I, seg, at + o, ByteOrder.LITTLE_ENDIAN);
            IntVector v1 = IntVector.fromMemorySegment(I, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector v2 = IntVector.fromMemorySegment(I, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector v3 = IntVector.fromMemorySegment(I, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(even, a0);
            b0 = v0.and(0xFFFF0000).reinterpretAsFloats().fma(odd, b0);
            a1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(even, a1);
            b1 = v1.and(0xFFFF0000).reinterpretAsFloats().fma(odd, b1);
            a2 = v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(even, a2);
            b2 = v2.and(0xFFFF0000).reinterpretAsFloats().fma(odd, b2);
            a3 = v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(even, a3);
            b3 = v3.and(0xFFFF0000).reinterpretAsFloats().fma(odd, b3);
        }
        four[0] = bf16Tail(a0.add(b0).reduceLanes(VectorOperators.ADD), seg, at, x, xOff, i, n);
        four[1] = bf16Tail(a1.add(b1).reduceLanes(VectorOperators.ADD), seg, r1, x, xOff, i, n);
        four[2] = bf16Tail(a2.add(b2).reduceLanes(VectorOperators.ADD), seg, r2, x, xOff, i, n);
        four[3] = bf16Tail(a3.add(b3).reduceLanes(VectorOperators.ADD), seg, r3, x, xOff, i, n);
    }

    /** The lanes' sum, then the scalar tail {@code from .. n} of the mapped f32 row at byte offset {@code row}: the same steps as {@link #dot}. */
    private static float finish(FloatVector acc, java.lang.foreign.MemorySegment seg, long row, float[] x, int xOff,
                                int from, int n) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int k = from; k < n; k++) {
            sum += seg.get(Tensor.F32, row + k * 4L) * x[xOff + k];
        }
        return sum;
    }

    /**
     * An f32 row at byte offset {@code row} dotted with x, its vector loads aligned to 64 bytes: the
     * elements before the row's first 64-byte boundary are summed one by one, then whole vectors from
     * that boundary in one FMA chain, then the tail. Decode's kernel on AMD ({@link Kernels.DecodeRows#ONE}):
     * safetensors puts a tensor wherever its header ends (8 bytes past a boundary in the benchmark's files),
     * so a row's 64-byte loads from its start would each straddle two cache lines. The sum's rounding
     * depends on the row's address, never on how the team splits the rows.
     */
    static float dotF32Aligned(java.lang.foreign.MemorySegment seg, long row, float[] x, int xOff, int n) {
        int lead = Math.min(n, (int) ((-(seg.address() + row) & 63) >>> 2));
        float sum = 0f;
        for (int k = 0; k < lead; k++) {
            sum += seg.get(Tensor.F32, row + k * 4L) * x[xOff + k];
        }
        FloatVector acc = FloatVector.zero(F);
        int len = F.length();
        int i = lead;
        for (; i + len <= n; i += len) {
            acc = FloatVector.fromMemorySegment(F, seg, row + i * 4L, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        sum += acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += seg.get(Tensor.F32, row + i * 4L) * x[xOff + i];
        }
        return sum;
    }

    /**
     * A bf16 row dotted with x, without widening instructions, four FMA chains: one int-vector load holds
     * two bf16 per lane, the even one (low half) becomes an f32 by a left shift and the odd one (high half)
     * by masking the low half away; they meet x's even and odd elements, pre-arranged by {@link #pairBf16}.
     * Decode's bf16 kernel on AMD ({@link Kernels.DecodeRows#ONE}).
     */
    static float dotBf16Paired(Tensor t, long start, float[] paired, float[] x, int xOff, int n) {
        var seg = t.data();
        long base = start * 2;
        int len = F.length();
        int block = BF16_BLOCK;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * block <= n; i += 2 * block) {
            IntVector v = IntVector.fromMemorySegment(I, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
            IntVector u = IntVector.fromMemorySegment(I, seg, base + (i + block) * 2L, ByteOrder.LITTLE_ENDIAN);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i + len), a1);
            a2 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i + block), a2);
            a3 = u.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i + block + len), a3);
        }
        for (; i + block <= n; i += block) {
            IntVector v = IntVector.fromMemorySegment(I, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i + len), a1);
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
    }

    /** {@link #dot} with the f32 row read where it is mapped: the same steps, so the same sum. */
    static float dotF32Single(java.lang.foreign.MemorySegment seg, long row, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromMemorySegment(F, seg, row + i * 4L, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        return finish(acc, seg, row, x, xOff, i, n);
    }

    /** Sum of {@code n} floats from byte offset {@code offset}: four independent accumulators keep the loads in flight. */
    static float sumF32(java.lang.foreign.MemorySegment seg, long offset, int n) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int step = F.length() * 4;
        int i = 0;
        for (; i + step <= n; i += step) {
            long at = offset + i * 4L;
            a0 = a0.add(FloatVector.fromMemorySegment(F, seg, at, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, seg, at + F.vectorByteSize(), ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, seg, at + 2L * F.vectorByteSize(), ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, seg, at + 3L * F.vectorByteSize(), ByteOrder.LITTLE_ENDIAN));
        }
        float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += seg.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, offset + i * 4L);
        }
        return sum;
    }

    // ---- Attention over the latent cache -------------------------------------------------

    /**
     * {@code out[t][j] = sum over k < depth(t) of a[t][k] * b[k][j]} for {@code rows} rows of {@code a} and
     * {@code cols} columns of {@code b} (row-major, the given strides). Each element of {@code a} is
     * broadcast against whole vectors of a row of {@code b}: no lane sums at all. Every output sums
     * its products in order of k with one fused multiply-add each, whatever tile computes it. With
     * {@code causal}, row t stops at {@code depth - rows + t + 1} (its own position in a causal
     * attention batch), in tiles of four rows at the last row's limit (the others' products there are zeros).
     */
    static void gemm(float[] a, int aOff, int aStride, int rows, int depth, boolean causal,
                     float[] b, int bOff, int bStride, int cols, float[] out, int outOff, int outStride) {
        int len = F.length();
        int t = 0;
        for (; t + 4 <= rows; t += 4) {
            int kEnd = causal ? depth - rows + t + 4 : depth;
            int a0 = aOff + t * aStride;
            int a1 = a0 + aStride;
            int a2 = a1 + aStride;
            int a3 = a2 + aStride;
            int o0 = outOff + t * outStride;
            int j = 0;
            for (; j + 2 * len <= cols; j += 2 * len) {
                FloatVector c00 = FloatVector.zero(F);
                FloatVector c01 = FloatVector.zero(F);
                FloatVector c10 = FloatVector.zero(F);
                FloatVector c11 = FloatVector.zero(F);
                FloatVector c20 = FloatVector.zero(F);
                FloatVector c21 = FloatVector.zero(F);
                FloatVector c30 = FloatVector.zero(F);
                FloatVector c31 = FloatVector.zero(F);
                for (int k = 0; k < kEnd; k++) {
                    int bo = bOff + k * bStride + j;
                    FloatVector v0 = FloatVector.fromArray(F, b, bo);
                    FloatVector v1 = FloatVector.fromArray(F, b, bo + len);
                    FloatVector s = FloatVector.broadcast(F, a[a0 + k]);
                    c00 = v0.fma(s, c00);
                    c01 = v1.fma(s, c01);
                    s = FloatVector.broadcast(F, a[a1 + k]);
                    c10 = v0.fma(s, c10);
                    c11 = v1.fma(s, c11);
                    s = FloatVector.broadcast(F, a[a2 + k]);
                    c20 = v0.fma(s, c20);
                    c21 = v1.fma(s, c21);
                    s = FloatVector.broadcast(F, a[a3 + k]);
                    c30 = v0.fma(s, c30);
                    c31 = v1.fma(s, c31);
                }
                c00.intoArray(out, o0 + j);
                c01.intoArray(out, o0 + j + len);
                c10.intoArray(out, o0 + outStride + j);
                c11.intoArray(out, o0 + outStride + j + len);
                c20.intoArray(out, o0 + 2 * outStride + j);
                c21.intoArray(out, o0 + 2 * outStride + j + len);
                c30.intoArray(out, o0 + 3 * outStride + j);
                c31.intoArray(out, o0 + 3 * outStride + j + len);
            }
            for (int r = t; r < t + 4; r++) {
                gemmTail(a, aOff + r * aStride, kEnd, b, bOff, bStride, j, cols, out, outOff + r * outStride);
            }
        }
        for (; t < rows; t++) {
            int kEnd = causal ? depth - rows + t + 1 : depth;
            int ar = aOff + t * aStride;
            int o = outOff + t * outStride;
            int j = 0;
            // One row: four column vectors, four independent FMA chains.
            for (; j + 4 * len <= cols; j += 4 * len) {
                FloatVector c0 = FloatVector.zero(F);
                FloatVector c1 = FloatVector.zero(F);
                FloatVector c2 = FloatVector.zero(F);
                FloatVector c3 = FloatVector.zero(F);
                for (int k = 0; k < kEnd; k++) {
                    int bo = bOff + k * bStride + j;
                    FloatVector s = FloatVector.broadcast(F, a[ar + k]);
                    c0 = FloatVector.fromArray(F, b, bo).fma(s, c0);
                    c1 = FloatVector.fromArray(F, b, bo + len).fma(s, c1);
                    c2 = FloatVector.fromArray(F, b, bo + 2 * len).fma(s, c2);
                    c3 = FloatVector.fromArray(F, b, bo + 3 * len).fma(s, c3);
                }
                c0.intoArray(out, o + j);
                c1.intoArray(out, o + j + len);
                c2.intoArray(out, o + j + 2 * len);
                c3.intoArray(out, o + j + 3 * len);
            }
            gemmTail(a, ar, kEnd, b, bOff, bStride, j, cols, out, o);
        }
    }

    /** Columns {@code from .. cols} of one output row of {@link #gemm}: a vector at a time, then scalars (same order of k, fused). */
    private static void gemmTail(float[] a, int ar, int kEnd, float[] b, int bOff, int bStride, int from, int cols,
                                 float[] out, int o) {
        int len = F.length();
        int j = from;
        for (; j + len <= cols; j += len) {
            FloatVector c = FloatVector.zero(F);
            for (int k = 0; k < kEnd; k++) {
                c = FloatVector.fromArray(F, b, bOff + k * bStride + j).fma(FloatVector.broadcast(F, a[ar + k]), c);
            }
            c.intoArray(out, o + j);
        }
        for (; j < cols; j++) {
            float c = 0f;
            for (int k = 0; k < kEnd; k++) {
                c = Math.fma(b[bOff + k * bStride + j], a[ar + k], c);
            }
            out[o + j] = c;
        }
    }

    /**
     * Softmax of {@code x[off .. off + n]} in place, with the Vector API's exp (SVML on x86): the
     * scalar {@code Math.exp} per score was a visible share of batched attention.
     */
    static void softmax(float[] x, int off, int n) {
        int len = F.length();
        int bound = F.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += len) {
                m = m.max(FloatVector.fromArray(F, x, off + i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector vm = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        i = 0;
        for (; i < bound; i += len) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(vm).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        FloatVector inv = FloatVector.broadcast(F, 1f / sum);
        i = 0;
        for (; i < bound; i += len) {
            FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        }
        float scale = 1f / sum;
        for (; i < n; i++) {
            x[off + i] *= scale;
        }
    }
}
