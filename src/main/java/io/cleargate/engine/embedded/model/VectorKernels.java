package io.cleargate.engine.embedded.model;

import java.nio.ByteOrder;
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

    static {
        assert S.length() == F.length() : "short and float species must have the same lane count";
    }

    private VectorKernels() {}

    static float dot(Tensor t, long start, float[] x, int xOff, int n) {
        return switch (t.dtype()) {
            case F32 -> dotF32(t, start, x, xOff, n);
            case BF16 -> S.length() == F.length() ? dotBf16(t, start, x, xOff, n) : Kernels.scalarDot(t, start, x, xOff, n);
            case F16 -> Kernels.scalarDot(t, start, x, xOff, n);
        };
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
}
