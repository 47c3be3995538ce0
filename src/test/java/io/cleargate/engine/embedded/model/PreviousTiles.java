package io.cleargate.engine.embedded.model;

import static io.cleargate.engine.embedded.model.VectorKernels.F;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The few-token kernels the engine used before engine14 (speed.md 42), kept as the baseline of
 * {@link ExpertTileBench} and {@link StreamRowsBench}: four f32 or bf16 rows read where they are mapped
 * against four, two and one tokens (sixteen, eight and four FMA chains), and single rows. The engine
 * now reads few-token rows one at a time ({@link Kernels#matmulRows}).
 */
final class PreviousTiles {

    private PreviousTiles() {}

    /**
     * {@link VectorKernels#dot4x4} with the four f32 weight rows read where they are mapped (rows {@code rowBytes}
     * apart from byte offset {@code at}), without copying them into arrays first: in prefill the
     * copy was a fifth of the samples, most of it for experts that see four tokens or fewer.
     */
    static void dot4x4F32(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride,
                          int n, float[] out, int outOff, int outStride) {
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
        int o = outOff;
        out[o] = finish(a0, seg, r0, x, x0, i, n);
        out[o + outStride] = finish(a1, seg, r0, x, x1, i, n);
        out[o + 2 * outStride] = finish(a2, seg, r0, x, x2, i, n);
        out[o + 3 * outStride] = finish(a3, seg, r0, x, x3, i, n);
        out[o + 1] = finish(b0, seg, r1, x, x0, i, n);
        out[o + 1 + outStride] = finish(b1, seg, r1, x, x1, i, n);
        out[o + 1 + 2 * outStride] = finish(b2, seg, r1, x, x2, i, n);
        out[o + 1 + 3 * outStride] = finish(b3, seg, r1, x, x3, i, n);
        out[o + 2] = finish(c0, seg, r2, x, x0, i, n);
        out[o + 2 + outStride] = finish(c1, seg, r2, x, x1, i, n);
        out[o + 2 + 2 * outStride] = finish(c2, seg, r2, x, x2, i, n);
        out[o + 2 + 3 * outStride] = finish(c3, seg, r2, x, x3, i, n);
        out[o + 3] = finish(d0, seg, r3, x, x0, i, n);
        out[o + 3 + outStride] = finish(d1, seg, r3, x, x1, i, n);
        out[o + 3 + 2 * outStride] = finish(d2, seg, r3, x, x2, i, n);
        out[o + 3 + 3 * outStride] = finish(d3, seg, r3, x, x3, i, n);
    }

    /**
     * {@link #dot4x4F32} for two tokens: the tokens a 4-token tile leaves over (an expert of a 64-token
     * prefill sees about four) were done one row and one token at a time, a single FMA chain each, and
     * took more time than the tiles. Sums as {@link #dotF32Single} does, so the results are the same.
     */
    static void dot4x2F32(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride,
                          int n, float[] out, int outOff, int outStride) {
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
        int o = outOff;
        out[o] = finish(a0, seg, r0, x, x0, i, n);
        out[o + outStride] = finish(a1, seg, r0, x, x1, i, n);
        out[o + 1] = finish(b0, seg, r1, x, x0, i, n);
        out[o + 1 + outStride] = finish(b1, seg, r1, x, x1, i, n);
        out[o + 2] = finish(c0, seg, r2, x, x0, i, n);
        out[o + 2 + outStride] = finish(c1, seg, r2, x, x1, i, n);
        out[o + 3] = finish(d0, seg, r3, x, x0, i, n);
        out[o + 3 + outStride] = finish(d1, seg, r3, x, x1, i, n);
    }

    /** {@link #dot4x2F32} for one token: four rows, four independent FMA chains. */
    static void dot4x1F32(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int n,
                          float[] out, int outOff) {
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
        out[outOff] = finish(a0, seg, r0, x, xOff, i, n);
        out[outOff + 1] = finish(b0, seg, r1, x, xOff, i, n);
        out[outOff + 2] = finish(c0, seg, r2, x, xOff, i, n);
        out[outOff + 3] = finish(d0, seg, r3, x, xOff, i, n);
    }

    /**
     * {@link VectorKernels#dot4x4} with four bf16 weight rows read where they are mapped (rows {@code rowBytes}
     * apart from byte offset {@code at}), each vector widened in registers: the rows of a product with
     * few tokens (a routed expert sees about four of a 64-token prompt) were first widened into f32
     * arrays and then multiplied, so a core waited for memory while widening and left memory idle
     * while multiplying (bf16 experts streamed at ~12 GB/s against ~20 for f32 read in place).
     * Widening is exact and every (row, token) is summed as {@link VectorKernels#dot} sums it, so the results
     * are those of the widened rows.
     */
    static void dot4x4Bf16(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride,
                           int n, float[] out, int outOff, int outStride) {
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
            FloatVector u = VectorKernels.bf16(seg, r0 + o);
            FloatVector v = VectorKernels.bf16(seg, r1 + o);
            FloatVector w = VectorKernels.bf16(seg, r2 + o);
            FloatVector z = VectorKernels.bf16(seg, r3 + o);
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
        int o = outOff;
        out[o] = VectorKernels.bf16Tail(a0.reduceLanes(VectorOperators.ADD), seg, r0, x, x0, i, n);
        out[o + outStride] = VectorKernels.bf16Tail(a1.reduceLanes(VectorOperators.ADD), seg, r0, x, x1, i, n);
        out[o + 2 * outStride] = VectorKernels.bf16Tail(a2.reduceLanes(VectorOperators.ADD), seg, r0, x, x2, i, n);
        out[o + 3 * outStride] = VectorKernels.bf16Tail(a3.reduceLanes(VectorOperators.ADD), seg, r0, x, x3, i, n);
        out[o + 1] = VectorKernels.bf16Tail(b0.reduceLanes(VectorOperators.ADD), seg, r1, x, x0, i, n);
        out[o + 1 + outStride] = VectorKernels.bf16Tail(b1.reduceLanes(VectorOperators.ADD), seg, r1, x, x1, i, n);
        out[o + 1 + 2 * outStride] = VectorKernels.bf16Tail(b2.reduceLanes(VectorOperators.ADD), seg, r1, x, x2, i, n);
        out[o + 1 + 3 * outStride] = VectorKernels.bf16Tail(b3.reduceLanes(VectorOperators.ADD), seg, r1, x, x3, i, n);
        out[o + 2] = VectorKernels.bf16Tail(c0.reduceLanes(VectorOperators.ADD), seg, r2, x, x0, i, n);
        out[o + 2 + outStride] = VectorKernels.bf16Tail(c1.reduceLanes(VectorOperators.ADD), seg, r2, x, x1, i, n);
        out[o + 2 + 2 * outStride] = VectorKernels.bf16Tail(c2.reduceLanes(VectorOperators.ADD), seg, r2, x, x2, i, n);
        out[o + 2 + 3 * outStride] = VectorKernels.bf16Tail(c3.reduceLanes(VectorOperators.ADD), seg, r2, x, x3, i, n);
        out[o + 3] = VectorKernels.bf16Tail(d0.reduceLanes(VectorOperators.ADD), seg, r3, x, x0, i, n);
        out[o + 3 + outStride] = VectorKernels.bf16Tail(d1.reduceLanes(VectorOperators.ADD), seg, r3, x, x1, i, n);
        out[o + 3 + 2 * outStride] = VectorKernels.bf16Tail(d2.reduceLanes(VectorOperators.ADD), seg, r3, x, x2, i, n);
        out[o + 3 + 3 * outStride] = VectorKernels.bf16Tail(d3.reduceLanes(VectorOperators.ADD), seg, r3, x, x3, i, n);
    }

    /** {@link #dot4x4Bf16} for two tokens (the tokens a 4-token tile leaves over). */
    static void dot4x2Bf16(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int xStride,
                           int n, float[] out, int outOff, int outStride) {
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
            FloatVector u = VectorKernels.bf16(seg, r0 + o);
            FloatVector v = VectorKernels.bf16(seg, r1 + o);
            FloatVector w = VectorKernels.bf16(seg, r2 + o);
            FloatVector z = VectorKernels.bf16(seg, r3 + o);
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
        int o = outOff;
        out[o] = VectorKernels.bf16Tail(a0.reduceLanes(VectorOperators.ADD), seg, r0, x, x0, i, n);
        out[o + outStride] = VectorKernels.bf16Tail(a1.reduceLanes(VectorOperators.ADD), seg, r0, x, x1, i, n);
        out[o + 1] = VectorKernels.bf16Tail(b0.reduceLanes(VectorOperators.ADD), seg, r1, x, x0, i, n);
        out[o + 1 + outStride] = VectorKernels.bf16Tail(b1.reduceLanes(VectorOperators.ADD), seg, r1, x, x1, i, n);
        out[o + 2] = VectorKernels.bf16Tail(c0.reduceLanes(VectorOperators.ADD), seg, r2, x, x0, i, n);
        out[o + 2 + outStride] = VectorKernels.bf16Tail(c1.reduceLanes(VectorOperators.ADD), seg, r2, x, x1, i, n);
        out[o + 3] = VectorKernels.bf16Tail(d0.reduceLanes(VectorOperators.ADD), seg, r3, x, x0, i, n);
        out[o + 3 + outStride] = VectorKernels.bf16Tail(d1.reduceLanes(VectorOperators.ADD), seg, r3, x, x1, i, n);
    }

    /** {@link #dot4x2Bf16} for one token: four rows, four independent FMA chains. */
    static void dot4x1Bf16(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int n,
                           float[] out, int outOff, int outStep) {
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
            a0 = VectorKernels.bf16(seg, r0 + o).fma(y, a0);
            b0 = VectorKernels.bf16(seg, r1 + o).fma(y, b0);
            c0 = VectorKernels.bf16(seg, r2 + o).fma(y, c0);
            d0 = VectorKernels.bf16(seg, r3 + o).fma(y, d0);
        }
        out[outOff] = VectorKernels.bf16Tail(a0.reduceLanes(VectorOperators.ADD), seg, r0, x, xOff, i, n);
        out[outOff + outStep] = VectorKernels.bf16Tail(b0.reduceLanes(VectorOperators.ADD), seg, r1, x, xOff, i, n);
        out[outOff + 2 * outStep] = VectorKernels.bf16Tail(c0.reduceLanes(VectorOperators.ADD), seg, r2, x, xOff, i, n);
        out[outOff + 3 * outStep] = VectorKernels.bf16Tail(d0.reduceLanes(VectorOperators.ADD), seg, r3, x, xOff, i, n);
    }

    /** One bf16 row read in place, summed as {@link VectorKernels#dot} sums the widened row. */
    static float dotBf16Single(MemorySegment seg, long row, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = VectorKernels.bf16(seg, row + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        return VectorKernels.bf16Tail(acc.reduceLanes(VectorOperators.ADD), seg, row, x, xOff, i, n);
    }

    /** {@link VectorKernels#dot} with the f32 row read where it is mapped: the same steps, so the same sum. */
    static float dotF32Single(MemorySegment seg, long row, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            acc = FloatVector.fromMemorySegment(F, seg, row + i * 4L, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        return finish(acc, seg, row, x, xOff, i, n);
    }

    /** The lanes' sum and the scalar tail for a row read from the mapped f32 weights at byte offset {@code row}. */
    private static float finish(FloatVector acc, MemorySegment seg, long row, float[] x, int xOff,
                                int from, int n) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int k = from; k < n; k++) {
            sum += seg.get(Tensor.F32, row + k * 4L) * x[xOff + k];
        }
        return sum;
    }
}
