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
 * Not a test: decode row kernels that {@link StreamRowsBench} compares with the engine's
 * ({@link Tiles#f32x1}, {@link VectorKernels#dotBf16Rows4}): the ones decode used before
 * engine17 (bf16 rows one at a time with one chain, {@link #dotBf16Row}; f32 rows one at a time with aligned
 * loads and bf16 rows one at a time with four chains are decode's kernels on AMD again, {@link Kernels.DecodeRows})
 * and the candidates measured and dropped there (speed.md 50):
 * aligned loads with the row's first and last partial vectors loaded whole and the lanes outside the row
 * zeroed through x ("edges"), one row or four at a time, and eight rows at a time.
 */
final class RowKernelCandidates {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2))
            .withLanes(short.class);
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);
    private static final int BF16_BLOCK = VectorKernels.BF16_BLOCK;

    private RowKernelCandidates() {}

    /** {@code F.length()} ones then as many zeros: from index {@code F.length() - k}, a vector whose first k lanes are 1. */
    private static final float[] FIRST_LANES = edgeLanes(true);
    /** {@code F.length()} zeros then as many ones: from index {@code k}, a vector whose last {@code F.length() - k} lanes are 1. */
    private static final float[] LAST_LANES = edgeLanes(false);

    private static float[] edgeLanes(boolean onesFirst) {
        float[] lanes = new float[2 * F.length()];
        java.util.Arrays.fill(lanes, onesFirst ? 0 : F.length(), onesFirst ? F.length() : 2 * F.length(), 1f);
        return lanes;
    }

    static float dotF32Edges(MemorySegment seg, long row, float[] x, int xOff, int n) {
        int len = F.length();
        int lead = (int) ((-(seg.address() + row) & (F.vectorByteSize() - 1)) >>> 2);
        if (n < lead + 2 * len) {
            return VectorKernels.dotF32Single(seg, row, x, xOff, n);
        }
        FloatVector acc = FloatVector.fromMemorySegment(F, seg, row, ByteOrder.LITTLE_ENDIAN)
                .mul(FloatVector.fromArray(F, x, xOff).mul(FloatVector.fromArray(F, FIRST_LANES, len - lead)));
        int i = lead;
        for (; i + len <= n; i += len) {
            acc = FloatVector.fromMemorySegment(F, seg, row + i * 4L, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        int rest = n - i;
        acc = FloatVector.fromMemorySegment(F, seg, row + (n - len) * 4L, ByteOrder.LITTLE_ENDIAN)
                .fma(FloatVector.fromArray(F, x, xOff + n - len).mul(FloatVector.fromArray(F, LAST_LANES, rest)), acc);
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Four rows {@code rowBytes} apart (a multiple of the vector size), aligned loads, edges in vectors; sums into out[outOff..+4]. */
    static void dot4RowsEdges(MemorySegment seg, long row, long rowBytes, float[] x, int xOff, int n,
                              float[] out, int outOff) {
        int len = F.length();
        int lead = (int) ((-(seg.address() + row) & (F.vectorByteSize() - 1)) >>> 2);
        long r1 = row + rowBytes;
        long r2 = row + 2 * rowBytes;
        long r3 = row + 3 * rowBytes;
        FloatVector y = FloatVector.fromArray(F, x, xOff).mul(FloatVector.fromArray(F, FIRST_LANES, len - lead));
        FloatVector a0 = FloatVector.fromMemorySegment(F, seg, row, ByteOrder.LITTLE_ENDIAN).mul(y);
        FloatVector a1 = FloatVector.fromMemorySegment(F, seg, r1, ByteOrder.LITTLE_ENDIAN).mul(y);
        FloatVector a2 = FloatVector.fromMemorySegment(F, seg, r2, ByteOrder.LITTLE_ENDIAN).mul(y);
        FloatVector a3 = FloatVector.fromMemorySegment(F, seg, r3, ByteOrder.LITTLE_ENDIAN).mul(y);
        int i = lead;
        for (; i + len <= n; i += len) {
            long o = i * 4L;
            y = FloatVector.fromArray(F, x, xOff + i);
            a0 = FloatVector.fromMemorySegment(F, seg, row + o, ByteOrder.LITTLE_ENDIAN).fma(y, a0);
            a1 = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a1);
            a2 = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a2);
            a3 = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a3);
        }
        long o = (n - len) * 4L;
        y = FloatVector.fromArray(F, x, xOff + n - len).mul(FloatVector.fromArray(F, LAST_LANES, n - i));
        out[outOff] = FloatVector.fromMemorySegment(F, seg, row + o, ByteOrder.LITTLE_ENDIAN).fma(y, a0).reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = FloatVector.fromMemorySegment(F, seg, r1 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a1).reduceLanes(VectorOperators.ADD);
        out[outOff + 2] = FloatVector.fromMemorySegment(F, seg, r2 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a2).reduceLanes(VectorOperators.ADD);
        out[outOff + 3] = FloatVector.fromMemorySegment(F, seg, r3 + o, ByteOrder.LITTLE_ENDIAN).fma(y, a3).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Elements of a bf16 row at byte offset {@code row} before its first vector-size boundary (the same
     * for every row of a matrix whose rows are a whole number of vectors long).
     */
    static int bf16Lead(MemorySegment seg, long row) {
        return (int) ((-(seg.address() + row) & (F.vectorByteSize() - 1)) >>> 1);
    }

    static float dotBf16Edges(MemorySegment seg, long row, float[] paired, float[] x, int xOff, int n, int lead) {
        int len = F.length();
        int block = BF16_BLOCK;
        if (n < lead + 2 * block) {
            return VectorKernels.dotBf16Single(seg, row, x, xOff, n);
        }
        // The lead: two widened vectors from the row's start, lanes past the lead zeroed through x.
        FloatVector a0 = bf16(seg, row).mul(FloatVector.fromArray(F, x, xOff)
                .mul(FloatVector.fromArray(F, FIRST_LANES, len - Math.min(lead, len))));
        FloatVector a1 = bf16(seg, row + 2L * len).mul(FloatVector.fromArray(F, x, xOff + len)
                .mul(FloatVector.fromArray(F, FIRST_LANES, len - Math.max(0, lead - len))));
        int i = lead;
        for (; i + block <= n; i += block) {
            IntVector v = IntVector.fromMemorySegment(I, seg, row + i * 2L, ByteOrder.LITTLE_ENDIAN);
            int p = i - lead;
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, p), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, p + len), a1);
        }
        // The tail: the row's last two vectors widened, lanes before the tail zeroed.
        int rest = n - i;
        a0 = bf16(seg, row + (n - block) * 2L).fma(FloatVector.fromArray(F, x, xOff + n - block)
                .mul(FloatVector.fromArray(F, LAST_LANES, Math.max(0, rest - len))), a0);
        a1 = bf16(seg, row + (n - len) * 2L).fma(FloatVector.fromArray(F, x, xOff + n - len)
                .mul(FloatVector.fromArray(F, LAST_LANES, Math.min(rest, len))), a1);
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    static void dotF32Rows8(MemorySegment seg, long at, long rowBytes, float[] x, int xOff, int n, float[] eight) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            long o = at + i * 4L;
            FloatVector y = FloatVector.fromArray(F, x, xOff + i);
            a0 = FloatVector.fromMemorySegment(F, seg, o, ByteOrder.LITTLE_ENDIAN).fma(y, a0);
            a1 = FloatVector.fromMemorySegment(F, seg, o + rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a1);
            a2 = FloatVector.fromMemorySegment(F, seg, o + 2 * rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a2);
            a3 = FloatVector.fromMemorySegment(F, seg, o + 3 * rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a3);
            a4 = FloatVector.fromMemorySegment(F, seg, o + 4 * rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a4);
            a5 = FloatVector.fromMemorySegment(F, seg, o + 5 * rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a5);
            a6 = FloatVector.fromMemorySegment(F, seg, o + 6 * rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a6);
            a7 = FloatVector.fromMemorySegment(F, seg, o + 7 * rowBytes, ByteOrder.LITTLE_ENDIAN).fma(y, a7);
        }
        eight[0] = finish(a0, seg, at, x, xOff, i, n);
        eight[1] = finish(a1, seg, at + rowBytes, x, xOff, i, n);
        eight[2] = finish(a2, seg, at + 2 * rowBytes, x, xOff, i, n);
        eight[3] = finish(a3, seg, at + 3 * rowBytes, x, xOff, i, n);
        eight[4] = finish(a4, seg, at + 4 * rowBytes, x, xOff, i, n);
        eight[5] = finish(a5, seg, at + 5 * rowBytes, x, xOff, i, n);
        eight[6] = finish(a6, seg, at + 6 * rowBytes, x, xOff, i, n);
        eight[7] = finish(a7, seg, at + 7 * rowBytes, x, xOff, i, n);
    }


    /** One paired bf16 row (at byte offset {@code row}) dotted with x with one FMA chain: each block's even weights, then its odd ones. */
    static float dotBf16Row(MemorySegment seg, long row, float[] paired, float[] x, int xOff, int n) {
        int len = F.length();
        int block = BF16_BLOCK;
        FloatVector a = FloatVector.zero(F);
        int i = 0;
        for (; i + block <= n; i += block) {
            IntVector v = IntVector.fromMemorySegment(I, seg, row + i * 2L, ByteOrder.LITTLE_ENDIAN);
            a = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i + len),
                    v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, i), a));
        }
        return bf16Tail(a.reduceLanes(VectorOperators.ADD), seg, row, x, xOff, i, n);
    }


    private static float finish(FloatVector acc, MemorySegment seg, long row, float[] x, int xOff, int from, int n) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int k = from; k < n; k++) {
            sum += seg.get(Tensor.F32, row + k * 4L) * x[xOff + k];
        }
        return sum;
    }

    private static float bf16Tail(float sum, MemorySegment seg, long row, float[] x, int xOff, int from, int n) {
        for (int k = from; k < n; k++) {
            sum += Float.intBitsToFloat(seg.get(Tensor.I16, row + k * 2L) << 16) * x[xOff + k];
        }
        return sum;
    }

    private static FloatVector bf16(MemorySegment seg, long at) {
        ShortVector raw = ShortVector.fromMemorySegment(S, seg, at, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) raw.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
