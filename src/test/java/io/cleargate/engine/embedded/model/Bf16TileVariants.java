package io.cleargate.engine.embedded.model;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Not a test: the few-token bf16 kernels engine20 measured against {@link Kernels#matmulRows} in
 * {@link ExpertTileBench} ({@code -Dvariant=NAME}; speed.md 55), none kept. {@code f32mix} is a diagnostic
 * whose sums are wrong on purpose: the bf16 rows' bytes read by the f32 tiles as rows of half as many
 * floats, i.e. the same bytes and access pattern with f32's instructions (and half the FMAs) per byte.
 * {@code packed}: x paired and packed per tile so that a 64-byte load gives 32 weights by one shift and one
 * mask and every x load uses one base register. {@code x2}: four tokens as two 4x2 passes. {@code widen}:
 * four adjacent rows widened into an f32 block, then the array tiles. {@code x1spread}: one token as the
 * spread tiles read rows.
 */
final class Bf16TileVariants {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);

    private Bf16TileVariants() {}

    static void matmulRows(String variant, Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff,
                           int outStride, int from, int to) {
        switch (variant) {
            case "f32mix" -> f32mix(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            case "x1spread" -> spread(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            case "packed" -> packed(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            case "x2" -> x2(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            case "widen" -> widen(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            default -> throw new IllegalArgumentException(variant);
        }
    }

    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[Tiles.SUMS]);
    private static final ThreadLocal<float[]> PAIRED = ThreadLocal.withInitial(() -> new float[64 * 1024]);

    /** Diagnostic: the bf16 rows' bytes read by the f32 spread tiles as rows of cols / 2 floats (sums meaningless). */
    static void f32mix(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride, int from, int to) {
        var seg = w.tensor().data();
        int cols = w.cols() / 2;
        long rowBytes = w.cols() * 2L;
        float[] sums = SUMS.get();
        int spread = (to - from) / 4;
        long step = spread * rowBytes;
        for (int g = 0; g < spread; g++) {
            int r = from + g;
            long at = w.rowStart(r) * 2L;
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                Tiles.f32x4(seg, at, step, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, spread, sums);
            }
            if (t + 2 <= n) {
                Tiles.f32x2(seg, at, step, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, spread, sums);
                t += 2;
            }
            if (t < n) {
                Tiles.f32x1(seg, at, step, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, spread, sums);
            }
        }
    }

    /**
     * One token as the spread tiles read rows (four rows a quarter of the range apart, {@code bf16x1} /
     * {@code f32x1}); more tokens as main. Main sends one token to decode's kernels, four adjacent rows.
     */
    static void spread(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride, int from, int to) {
        if (n > 1) {
            Kernels.matmulRows(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        var seg = w.tensor().data();
        int cols = w.cols();
        boolean f32 = w.tensor().dtype() == DType.F32;
        long rowBytes = cols * (long) w.tensor().dtype().bytes();
        float[] sums = SUMS.get();
        int spread = (to - from) / 4;
        for (int g = 0; g < spread; g++) {
            int r = from + g;
            long at = w.rowStart(r) * w.tensor().dtype().bytes();
            if (f32) {
                Tiles.f32x1(seg, at, spread * rowBytes, x, xOff, cols, out, outOff + r, spread, sums);
            } else {
                Tiles.bf16x1(seg, at, spread * rowBytes, x, xOff, cols, out, outOff + r, spread, sums);
            }
        }
        Kernels.matmulRows(w, x, xOff, n, xStride, out, outOff, outStride, from + 4 * spread, to);
    }

    private static final IntVector MASK = IntVector.broadcast(I, 0xFFFF0000);
    private static final FloatVector EVEN = lanes(0);
    private static final FloatVector ODD = lanes(1);

    private static FloatVector lanes(int first) {
        float[] idx = new float[F.length()];
        for (int k = 0; k < idx.length; k++) {
            idx[k] = first + 2 * k;
        }
        return FloatVector.fromArray(F, idx, 0);
    }

    private static final ThreadLocal<float[]> BLOCK = ThreadLocal.withInitial(() -> new float[4 * 4096]);

    /** Main's spread tiles without the 4x4 one: four tokens as two 4x2 passes (fewer FMAs waiting on each line from memory). */
    static void x2(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride, int from, int to) {
        if (n == 1 || n >= Kernels.COPY_ROWS_FROM_TOKENS) {
            Kernels.matmulRows(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        var seg = w.tensor().data();
        int cols = w.cols();
        long rowBytes = cols * 2L;
        float[] sums = SUMS.get();
        int spread = (to - from) / 4;
        long step = spread * rowBytes;
        for (int g = 0; g < spread; g++) {
            int r = from + g;
            long at = w.rowStart(r) * 2L;
            int t = 0;
            for (; t + 2 <= n; t += 2) {
                Tiles.bf16x2(seg, at, step, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, spread, sums);
            }
            if (t < n) {
                Tiles.bf16x1(seg, at, step, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, spread, sums);
            }
        }
    }

    /**
     * Four adjacent rows widened into an f32 block in one sequential pass (the call's rows are then one
     * stream, read with few instructions per line), then the array tiles on the block from L1: the same
     * sums as main's bf16 tiles (same widened weights, same FMA order, same tree).
     */
    static void widen(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride, int from, int to) {
        if (n >= Kernels.COPY_ROWS_FROM_TOKENS) {
            Kernels.matmulRows(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        int cols = w.cols();
        float[] block = BLOCK.get();
        float[] sums = SUMS.get();
        int r = from;
        for (; r + 4 <= to; r += 4) {
            VectorKernels.decodeBf16(w.tensor(), w.rowStart(r), block, 0, 4 * cols);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                Tiles.arrays4x4(block, 0, cols, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, sums);
            }
            if (t + 2 <= n) {
                Tiles.arrays4x2(block, 0, cols, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, sums);
                t += 2;
            }
            if (t < n) {
                Tiles.arrays4x1(block, 0, cols, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, 1, sums);
            }
        }
    }

    /**
     * x packed per tile group: for each block of 32 columns, each token's even elements then its odd ones,
     * the group's tokens one after the other; one base register for all x loads, one 64-byte weight load
     * per row and block (shift and mask instead of widening).
     */
    static void packed(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride, int from, int to) {
        if (n >= Kernels.COPY_ROWS_FROM_TOKENS) {
            Kernels.matmulRows(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        var seg = w.tensor().data();
        int cols = w.cols();
        long rowBytes = cols * 2L;
        float[] xp = PAIRED.get();
        int t = 0;
        for (; t + 4 <= n; t += 4) {
            pack(x, xOff + t * xStride, xStride, 4, cols, xp, t * cols);
        }
        if (t + 2 <= n) {
            pack(x, xOff + t * xStride, xStride, 2, cols, xp, t * cols);
            t += 2;
        }
        if (t < n) {
            pack(x, xOff + t * xStride, xStride, 1, cols, xp, t * cols);
        }
        float[] sums = SUMS.get();
        int spread = (to - from) / 4;
        long step = spread * rowBytes;
        for (int g = 0; g < spread; g++) {
            int r = from + g;
            long at = w.rowStart(r) * 2L;
            t = 0;
            for (; t + 4 <= n; t += 4) {
                k4(seg, at, step, xp, t * cols, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, spread, sums);
            }
            if (t + 2 <= n) {
                k2(seg, at, step, xp, t * cols, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, spread, sums);
                t += 2;
            }
            if (t < n) {
                k1(seg, at, step, xp, t * cols, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, spread, sums);
            }
        }
        for (int r = from + 4 * spread; r < to; r++) {
            long at = w.rowStart(r) * 2L;
            for (t = 0; t < n; t++) {
                out[outOff + t * outStride + r] = VectorKernels.dotBf16Single(seg, at, x, xOff + t * xStride, cols);
            }
        }
    }

    /** k tokens ({@code xStride} apart from xOff) into xp[pOff ..]: block b of 32 columns, token j at pOff + b * 32k + 32j (even 16, odd 16). */
    static void pack(float[] x, int xOff, int xStride, int k, int n, float[] xp, int pOff) {
        int len = F.length();
        int blocks = n / (2 * len);
        for (int j = 0; j < k; j++) {
            int src = xOff + j * xStride;
            int dst = pOff + j * 2 * len;
            for (int b = 0; b < blocks; b++) {
                FloatVector lo = FloatVector.fromArray(F, x, src + b * 2 * len);
                FloatVector hi = FloatVector.fromArray(F, x, src + b * 2 * len + len);
                EVEN.selectFrom(lo, hi).intoArray(xp, dst + b * 2 * len * k);
                ODD.selectFrom(lo, hi).intoArray(xp, dst + b * 2 * len * k + len);
            }
        }
    }

    static void k4(MemorySegment seg, long at, long rowBytes, float[] xp, int pOff, float[] x, int xOff, int xStride, int n,
                   float[] out, int outOff, int outStride, int outStep, float[] sums) {
        int len = F.length();
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
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = n / (2 * len) * (2 * len);
        for (; i < bound; i += 2 * len) {
            long o = i * 2L;
            int q = pOff + 4 * i;
            IntVector ru = IntVector.fromMemorySegment(I, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rv = IntVector.fromMemorySegment(I, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rw = IntVector.fromMemorySegment(I, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rz = IntVector.fromMemorySegment(I, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector u = ru.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v = rv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w = rw.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector z = rz.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector y = FloatVector.fromArray(F, xp, q);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, xp, q + 2 * len);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, xp, q + 4 * len);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.fromArray(F, xp, q + 6 * len);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
            u = ru.and(MASK).reinterpretAsFloats();
            v = rv.and(MASK).reinterpretAsFloats();
            w = rw.and(MASK).reinterpretAsFloats();
            z = rz.and(MASK).reinterpretAsFloats();
            y = FloatVector.fromArray(F, xp, q + len);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, xp, q + 3 * len);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.fromArray(F, xp, q + 5 * len);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.fromArray(F, xp, q + 7 * len);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, len);
        c0.intoArray(sums, 2 * len);
        d0.intoArray(sums, 3 * len);
        a1.intoArray(sums, 4 * len);
        b1.intoArray(sums, 5 * len);
        c1.intoArray(sums, 6 * len);
        d1.intoArray(sums, 7 * len);
        a2.intoArray(sums, 8 * len);
        b2.intoArray(sums, 9 * len);
        c2.intoArray(sums, 10 * len);
        d2.intoArray(sums, 11 * len);
        a3.intoArray(sums, 12 * len);
        b3.intoArray(sums, 13 * len);
        c3.intoArray(sums, 14 * len);
        d3.intoArray(sums, 15 * len);
        Tiles.sum16(sums);
        Tiles.storeBf16(sums, 4, seg, at, rowBytes, x, xOff, xStride, i, n, out, outOff, outStride, outStep);
    }

    static void k2(MemorySegment seg, long at, long rowBytes, float[] xp, int pOff, float[] x, int xOff, int xStride, int n,
                   float[] out, int outOff, int outStride, int outStep, float[] sums) {
        int len = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = n / (2 * len) * (2 * len);
        for (; i < bound; i += 2 * len) {
            long o = i * 2L;
            int q = pOff + 2 * i;
            IntVector ru = IntVector.fromMemorySegment(I, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rv = IntVector.fromMemorySegment(I, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rw = IntVector.fromMemorySegment(I, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rz = IntVector.fromMemorySegment(I, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector u = ru.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v = rv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w = rw.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector z = rz.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector y = FloatVector.fromArray(F, xp, q);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, xp, q + 2 * len);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            u = ru.and(MASK).reinterpretAsFloats();
            v = rv.and(MASK).reinterpretAsFloats();
            w = rw.and(MASK).reinterpretAsFloats();
            z = rz.and(MASK).reinterpretAsFloats();
            y = FloatVector.fromArray(F, xp, q + len);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.fromArray(F, xp, q + 3 * len);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, len);
        c0.intoArray(sums, 2 * len);
        d0.intoArray(sums, 3 * len);
        a1.intoArray(sums, 4 * len);
        b1.intoArray(sums, 5 * len);
        c1.intoArray(sums, 6 * len);
        d1.intoArray(sums, 7 * len);
        Tiles.sum8(sums);
        Tiles.storeBf16(sums, 2, seg, at, rowBytes, x, xOff, xStride, i, n, out, outOff, outStride, outStep);
    }

    static void k1(MemorySegment seg, long at, long rowBytes, float[] xp, int pOff, float[] x, int xOff, int n, float[] out,
                   int outOff, int outStep, float[] sums) {
        int len = F.length();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        long r0 = at;
        long r1 = at + rowBytes;
        long r2 = at + 2 * rowBytes;
        long r3 = at + 3 * rowBytes;
        int i = 0;
        int bound = n / (2 * len) * (2 * len);
        for (; i < bound; i += 2 * len) {
            long o = i * 2L;
            int q = pOff + i;
            IntVector ru = IntVector.fromMemorySegment(I, seg, r0 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rv = IntVector.fromMemorySegment(I, seg, r1 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rw = IntVector.fromMemorySegment(I, seg, r2 + o, ByteOrder.LITTLE_ENDIAN);
            IntVector rz = IntVector.fromMemorySegment(I, seg, r3 + o, ByteOrder.LITTLE_ENDIAN);
            FloatVector y = FloatVector.fromArray(F, xp, q);
            a0 = ru.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, a0);
            b0 = rv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, b0);
            c0 = rw.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, c0);
            d0 = rz.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(y, d0);
            y = FloatVector.fromArray(F, xp, q + len);
            a0 = ru.and(MASK).reinterpretAsFloats().fma(y, a0);
            b0 = rv.and(MASK).reinterpretAsFloats().fma(y, b0);
            c0 = rw.and(MASK).reinterpretAsFloats().fma(y, c0);
            d0 = rz.and(MASK).reinterpretAsFloats().fma(y, d0);
        }
        a0.intoArray(sums, 0);
        b0.intoArray(sums, len);
        c0.intoArray(sums, 2 * len);
        d0.intoArray(sums, 3 * len);
        Tiles.sum4(sums);
        Tiles.storeBf16(sums, 1, seg, at, rowBytes, x, xOff, 0, i, n, out, outOff, 0, outStep);
    }
}
