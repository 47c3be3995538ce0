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
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = codes(t.dtype(), seg, start + i).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
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

    private static float dotF32(Tensor t, long start, float[] x, int xOff, int n) {
        var seg = t.data();
        long base = start * 4;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, seg, base + i * 4L, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
    }

    /** bf16 is the top half of an f32: widen each short to an int, shift it up 16 bits, reinterpret. */
    private static float dotBf16(Tensor t, long start, float[] x, int xOff, int n) {
        var seg = t.data();
        long base = start * 2;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            ShortVector raw = ShortVector.fromMemorySegment(S, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
            IntVector bits = (IntVector) raw.convertShape(VectorOperators.S2I, I, 0);
            FloatVector w = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = w.fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
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
            out[outOff + i] += a * x[xOff + i];
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

    static void decodeBf16(Tensor t, long start, float[] out, int n) {
        var seg = t.data();
        long base = start * 2;
        int i = 0;
        if (S.length() == F.length()) {
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                ShortVector raw = ShortVector.fromMemorySegment(S, seg, base + i * 2L, ByteOrder.LITTLE_ENDIAN);
                IntVector bits = (IntVector) raw.convertShape(VectorOperators.S2I, I, 0);
                bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, i);
            }
        }
        for (; i < n; i++) {
            out[i] = t.get(start + i);
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
}
