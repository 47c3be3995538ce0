package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 and bf16 batch products of a whole prefill chunk (49 to 64 tokens) with the tokens in the vectors' lanes:
 * the batch's activations are transposed once per step and member ({@link #of}: column k's 64 tokens as
 * four vectors, from a 64-byte boundary), and a tile of six weight rows broadcasts each row's k-th weight
 * from where the weights are mapped against those four vectors (24 FMAs a step of k, as the four-panel
 * tiles of {@link Panels}). No weight is copied or transposed: {@link Panels} packs every 64 rows into
 * panels (a third of a call's time on this Xeon, speed.md 56), and its tiles wait for the packing to read
 * the rows from memory, where here the six rows stream in while the FMAs run. Every (row, token) is summed
 * by fused multiply-adds in order of k, the same operations as {@link Panels}: the results are the same bits.
 * bf16 rows are widened one weight at a time (exact) before the broadcast: on the AMD EPYC of speed.md 61
 * and 64 one thread ran a 64-row call at 44-48 GMAC/s this way against 36-40 through {@link Panels} (the
 * core's FMA peak there ~55), where bf16 had gone through the panels only. Only loaded with the Vector
 * API, for 16-lane vectors.
 */
final class TokenLanes {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Whether this path runs here: 16 lanes (the transposes of {@link Panels}). */
    static final boolean USABLE = L == 16 && !Boolean.getBoolean("cleargate.engine.panelsOnly");
    /** Tokens of a transposed batch: four vectors. */
    static final int TOKENS = 4 * 16;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** A batch transposed by {@link #of}: this thread's buffer, good until the thread transposes another batch. */
    record Input(MemorySegment xT, int n, int cols) {}

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        MemorySegment xT = MemorySegment.NULL;
        final float[] block = new float[16 * 16];
        /** A tile's sums, row i's 64 tokens from i * 64. */
        final float[] sums = new float[6 * TOKENS];

        MemorySegment fit(int cols) {
            if (xT.byteSize() < (long) cols * TOKENS * Float.BYTES) {
                xT = Arena.ofAuto().allocate((long) cols * TOKENS * Float.BYTES, 64);
            }
            return xT;
        }
    }

    private TokenLanes() {}

    /**
     * {@code n} tokens of {@code cols} activations ({@code x[xOff + t * xStride ..]}) transposed for
     * {@link #matmulRows}, or null where this path does not run (other lane counts, fewer than 49 or
     * more than 64 tokens).
     */
    static Input of(float[] x, int xOff, int n, int xStride, int cols) {
        if (!USABLE || n <= 3 * 16 || n > TOKENS) {
            return null;
        }
        Scratch s = SCRATCH.get();
        MemorySegment xT = s.fit(cols);
        for (int tb = 0; tb < 4; tb++) {
            int valid = Math.min(16, n - tb * 16);
            int c = 0;
            for (; c + 16 <= cols; c += 16) {
                if (valid == 16) {
                    Panels.transpose16(x, xOff + tb * 16 * xStride + c, xStride, xT, c * TOKENS + tb * 16, TOKENS);
                } else {
                    java.util.Arrays.fill(s.block, 0f);
                    for (int j = 0; j < valid; j++) {
                        System.arraycopy(x, xOff + (tb * 16 + j) * xStride + c, s.block, j * 16, 16);
                    }
                    Panels.transpose16(s.block, 0, 16, xT, c * TOKENS + tb * 16, TOKENS);
                }
            }
            for (; c < cols; c++) {
                for (int j = 0; j < 16; j++) {
                    float v = j < valid ? x[xOff + (tb * 16 + j) * xStride + c] : 0f;
                    xT.setAtIndex(ValueLayout.JAVA_FLOAT, (long) c * TOKENS + tb * 16 + j, v);
                }
            }
        }
        return new Input(xT, n, cols);
    }

    /** Rows {@code from .. to} of {@code W x} for the batch {@code in} (f32 weights): {@code out[outOff + t * outStride + r]}. */
    static void matmulRows(Matrix w, Input in, float[] out, int outOff, int outStride, int from, int to) {
        MemorySegment seg = w.tensor().data();
        boolean bf16 = w.tensor().dtype() == DType.BF16;
        int bytes = w.tensor().dtype().bytes();
        long rowBytes = (long) w.cols() * bytes;
        float[] sums = SCRATCH.get().sums;
        int r = from;
        for (; r + 6 <= to; r += 6) {
            if (bf16) {
                rows6Bf16(seg, w.rowStart(r) * bytes, rowBytes, in.xT(), in.cols(), sums);
            } else {
                rows6(seg, w.rowStart(r) * bytes, rowBytes, in.xT(), in.cols(), sums);
            }
            scatter(sums, 6, in.n(), out, outOff + r, outStride);
        }
        for (; r < to; r++) {
            if (bf16) {
                row1Bf16(seg, w.rowStart(r) * bytes, in.xT(), in.cols(), sums);
            } else {
                row1(seg, w.rowStart(r) * bytes, in.xT(), in.cols(), sums);
            }
            scatter(sums, 1, in.n(), out, outOff + r, outStride);
        }
    }

    /**
     * A tile's sums into {@code out}: row i, token t at {@code out[outOff + t * outStride + i]}. Token by token, the
     * tile's rows side by side in one line: the tokens' lines are {@code outStride} apart, 4 KB for a 1024-wide
     * output, so all of them fall in one set of the L1 and a pass over the tokens per row found none still there.
     */
    private static void scatter(float[] sums, int rows, int n, float[] out, int outOff, int outStride) {
        for (int t = 0; t < n; t++) {
            int o = outOff + t * outStride;
            for (int i = 0; i < rows; i++) {
                out[o + i] = sums[i * TOKENS + t];
            }
        }
    }

    /** Six rows from {@code at} ({@code rowBytes} apart) against the batch's 64 tokens; sums in order of k. */
    private static void rows6(MemorySegment seg, long at, long rowBytes, MemorySegment xT, int cols, float[] sums) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        FloatVector a40 = FloatVector.zero(F), a41 = FloatVector.zero(F), a42 = FloatVector.zero(F), a43 = FloatVector.zero(F);
        FloatVector a50 = FloatVector.zero(F), a51 = FloatVector.zero(F), a52 = FloatVector.zero(F), a53 = FloatVector.zero(F);
        long w0 = at + 0 * rowBytes;
        long w1 = at + 1 * rowBytes;
        long w2 = at + 2 * rowBytes;
        long w3 = at + 3 * rowBytes;
        long w4 = at + 4 * rowBytes;
        long w5 = at + 5 * rowBytes;
        for (int k = 0; k < cols; k++) {
            long xk = (long) k * TOKENS * Float.BYTES;
            long wk = (long) k * Float.BYTES;
            FloatVector t0 = FloatVector.fromMemorySegment(F, xT, xk, NATIVE);
            FloatVector t1 = FloatVector.fromMemorySegment(F, xT, xk + 64, NATIVE);
            FloatVector t2 = FloatVector.fromMemorySegment(F, xT, xk + 128, NATIVE);
            FloatVector t3 = FloatVector.fromMemorySegment(F, xT, xk + 192, NATIVE);
            FloatVector y;
            y = FloatVector.broadcast(F, seg.get(Tensor.F32, w0 + wk));
            a00 = y.fma(t0, a00);
            a01 = y.fma(t1, a01);
            a02 = y.fma(t2, a02);
            a03 = y.fma(t3, a03);
            y = FloatVector.broadcast(F, seg.get(Tensor.F32, w1 + wk));
            a10 = y.fma(t0, a10);
            a11 = y.fma(t1, a11);
            a12 = y.fma(t2, a12);
            a13 = y.fma(t3, a13);
            y = FloatVector.broadcast(F, seg.get(Tensor.F32, w2 + wk));
            a20 = y.fma(t0, a20);
            a21 = y.fma(t1, a21);
            a22 = y.fma(t2, a22);
            a23 = y.fma(t3, a23);
            y = FloatVector.broadcast(F, seg.get(Tensor.F32, w3 + wk));
            a30 = y.fma(t0, a30);
            a31 = y.fma(t1, a31);
            a32 = y.fma(t2, a32);
            a33 = y.fma(t3, a33);
            y = FloatVector.broadcast(F, seg.get(Tensor.F32, w4 + wk));
            a40 = y.fma(t0, a40);
            a41 = y.fma(t1, a41);
            a42 = y.fma(t2, a42);
            a43 = y.fma(t3, a43);
            y = FloatVector.broadcast(F, seg.get(Tensor.F32, w5 + wk));
            a50 = y.fma(t0, a50);
            a51 = y.fma(t1, a51);
            a52 = y.fma(t2, a52);
            a53 = y.fma(t3, a53);
        }
        a00.intoArray(sums, 0 * TOKENS + 0 * 16);
        a01.intoArray(sums, 0 * TOKENS + 1 * 16);
        a02.intoArray(sums, 0 * TOKENS + 2 * 16);
        a03.intoArray(sums, 0 * TOKENS + 3 * 16);
        a10.intoArray(sums, 1 * TOKENS + 0 * 16);
        a11.intoArray(sums, 1 * TOKENS + 1 * 16);
        a12.intoArray(sums, 1 * TOKENS + 2 * 16);
        a13.intoArray(sums, 1 * TOKENS + 3 * 16);
        a20.intoArray(sums, 2 * TOKENS + 0 * 16);
        a21.intoArray(sums, 2 * TOKENS + 1 * 16);
        a22.intoArray(sums, 2 * TOKENS + 2 * 16);
        a23.intoArray(sums, 2 * TOKENS + 3 * 16);
        a30.intoArray(sums, 3 * TOKENS + 0 * 16);
        a31.intoArray(sums, 3 * TOKENS + 1 * 16);
        a32.intoArray(sums, 3 * TOKENS + 2 * 16);
        a33.intoArray(sums, 3 * TOKENS + 3 * 16);
        a40.intoArray(sums, 4 * TOKENS + 0 * 16);
        a41.intoArray(sums, 4 * TOKENS + 1 * 16);
        a42.intoArray(sums, 4 * TOKENS + 2 * 16);
        a43.intoArray(sums, 4 * TOKENS + 3 * 16);
        a50.intoArray(sums, 5 * TOKENS + 0 * 16);
        a51.intoArray(sums, 5 * TOKENS + 1 * 16);
        a52.intoArray(sums, 5 * TOKENS + 2 * 16);
        a53.intoArray(sums, 5 * TOKENS + 3 * 16);
    }

    /** One row against the batch's 64 tokens (a share's last rows); sums in order of k. */
    private static void row1(MemorySegment seg, long at, MemorySegment xT, int cols, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int k = 0; k < cols; k++) {
            long xk = (long) k * TOKENS * Float.BYTES;
            FloatVector y = FloatVector.broadcast(F, seg.get(Tensor.F32, at + (long) k * Float.BYTES));
            a0 = y.fma(FloatVector.fromMemorySegment(F, xT, xk, NATIVE), a0);
            a1 = y.fma(FloatVector.fromMemorySegment(F, xT, xk + 64, NATIVE), a1);
            a2 = y.fma(FloatVector.fromMemorySegment(F, xT, xk + 128, NATIVE), a2);
            a3 = y.fma(FloatVector.fromMemorySegment(F, xT, xk + 192, NATIVE), a3);
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, 16);
        a2.intoArray(sums, 32);
        a3.intoArray(sums, 48);
    }

    /** {@link #rows6} for bf16 rows, each weight widened exactly before its broadcast. */
    private static void rows6Bf16(MemorySegment seg, long at, long rowBytes, MemorySegment xT, int cols, float[] sums) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        FloatVector a40 = FloatVector.zero(F), a41 = FloatVector.zero(F), a42 = FloatVector.zero(F), a43 = FloatVector.zero(F);
        FloatVector a50 = FloatVector.zero(F), a51 = FloatVector.zero(F), a52 = FloatVector.zero(F), a53 = FloatVector.zero(F);
        long w0 = at + 0 * rowBytes;
        long w1 = at + 1 * rowBytes;
        long w2 = at + 2 * rowBytes;
        long w3 = at + 3 * rowBytes;
        long w4 = at + 4 * rowBytes;
        long w5 = at + 5 * rowBytes;
        for (int k = 0; k < cols; k++) {
            long xk = (long) k * TOKENS * Float.BYTES;
            long wk = (long) k * 2;
            FloatVector t0 = FloatVector.fromMemorySegment(F, xT, xk, NATIVE);
            FloatVector t1 = FloatVector.fromMemorySegment(F, xT, xk + 64, NATIVE);
            FloatVector t2 = FloatVector.fromMemorySegment(F, xT, xk + 128, NATIVE);
            FloatVector t3 = FloatVector.fromMemorySegment(F, xT, xk + 192, NATIVE);
            FloatVector y;
            y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, w0 + wk) << 16));
            a00 = y.fma(t0, a00);
            a01 = y.fma(t1, a01);
            a02 = y.fma(t2, a02);
            a03 = y.fma(t3, a03);
            y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, w1 + wk) << 16));
            a10 = y.fma(t0, a10);
            a11 = y.fma(t1, a11);
            a12 = y.fma(t2, a12);
            a13 = y.fma(t3, a13);
            y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, w2 + wk) << 16));
            a20 = y.fma(t0, a20);
            a21 = y.fma(t1, a21);
            a22 = y.fma(t2, a22);
            a23 = y.fma(t3, a23);
            y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, w3 + wk) << 16));
            a30 = y.fma(t0, a30);
            a31 = y.fma(t1, a31);
            a32 = y.fma(t2, a32);
            a33 = y.fma(t3, a33);
            y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, w4 + wk) << 16));
            a40 = y.fma(t0, a40);
            a41 = y.fma(t1, a41);
            a42 = y.fma(t2, a42);
            a43 = y.fma(t3, a43);
            y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, w5 + wk) << 16));
            a50 = y.fma(t0, a50);
            a51 = y.fma(t1, a51);
            a52 = y.fma(t2, a52);
            a53 = y.fma(t3, a53);
        }
        a00.intoArray(sums, 0 * TOKENS + 0 * 16);
        a01.intoArray(sums, 0 * TOKENS + 1 * 16);
        a02.intoArray(sums, 0 * TOKENS + 2 * 16);
        a03.intoArray(sums, 0 * TOKENS + 3 * 16);
        a10.intoArray(sums, 1 * TOKENS + 0 * 16);
        a11.intoArray(sums, 1 * TOKENS + 1 * 16);
        a12.intoArray(sums, 1 * TOKENS + 2 * 16);
        a13.intoArray(sums, 1 * TOKENS + 3 * 16);
        a20.intoArray(sums, 2 * TOKENS + 0 * 16);
        a21.intoArray(sums, 2 * TOKENS + 1 * 16);
        a22.intoArray(sums, 2 * TOKENS + 2 * 16);
        a23.intoArray(sums, 2 * TOKENS + 3 * 16);
        a30.intoArray(sums, 3 * TOKENS + 0 * 16);
        a31.intoArray(sums, 3 * TOKENS + 1 * 16);
        a32.intoArray(sums, 3 * TOKENS + 2 * 16);
        a33.intoArray(sums, 3 * TOKENS + 3 * 16);
        a40.intoArray(sums, 4 * TOKENS + 0 * 16);
        a41.intoArray(sums, 4 * TOKENS + 1 * 16);
        a42.intoArray(sums, 4 * TOKENS + 2 * 16);
        a43.intoArray(sums, 4 * TOKENS + 3 * 16);
        a50.intoArray(sums, 5 * TOKENS + 0 * 16);
        a51.intoArray(sums, 5 * TOKENS + 1 * 16);
        a52.intoArray(sums, 5 * TOKENS + 2 * 16);
        a53.intoArray(sums, 5 * TOKENS + 3 * 16);
    }

    /** {@link #row1} for a bf16 row. */
    private static void row1Bf16(MemorySegment seg, long at, MemorySegment xT, int cols, float[] sums) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int k = 0; k < cols; k++) {
            long xk = (long) k * TOKENS * Float.BYTES;
            FloatVector y = FloatVector.broadcast(F, Float.intBitsToFloat(seg.get(Tensor.I16, at + (long) k * 2) << 16));
            a0 = y.fma(FloatVector.fromMemorySegment(F, xT, xk, NATIVE), a0);
            a1 = y.fma(FloatVector.fromMemorySegment(F, xT, xk + 64, NATIVE), a1);
            a2 = y.fma(FloatVector.fromMemorySegment(F, xT, xk + 128, NATIVE), a2);
            a3 = y.fma(FloatVector.fromMemorySegment(F, xT, xk + 192, NATIVE), a3);
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, 16);
        a2.intoArray(sums, 32);
        a3.intoArray(sums, 48);
    }
}
