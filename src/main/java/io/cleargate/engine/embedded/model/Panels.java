package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch products of many tokens (16 and more: a prefill's dense products and the shared expert) as
 * outer products over packed panels, the way BLAS-like kernels block a matrix product. The weight rows
 * are decoded and transposed {@code L} rows at a time ({@code L} = the vector's lanes) into panels whose
 * k-th vector holds column k of those rows. A tile of four panels (64 rows with AVX-512) and six tokens
 * keeps 24 accumulators whose lanes are rows: each step of k loads four panel vectors, broadcasts each
 * token's k-th activation and does 24 FMAs (fewer than 64 rows left: two panels and twelve tokens, or
 * one panel). The dot-product tiles this replaces ({@link Tiles#arrays4x4}) loaded four activation
 * vectors per sixteen FMAs and summed each accumulator's lanes at the end; here a tile's sums leave as
 * whole vectors (a token's rows are adjacent in {@code out}). On the Xeon of speed.md 49 (one thread,
 * {@code DenseTileBench}) the 64-token products ran at 42-47 GMAC/s against 36-38 for the dot tiles
 * (speed.md 51). Every (row, token) is summed by fused multiply-adds in order of k, whatever tile and
 * split of the rows made it (a partial panel is padded with zero rows and its valid lanes copied out).
 *
 * <p>The panels live off the heap from a 64-byte boundary, so that each panel vector is one cache line:
 * a heap array's elements start 16 bytes past its header, wherever the collector put it, and the tiles
 * alone ran at 40-65 GMAC/s on such an array (by JVM) against 80-85 on the aligned segment (speed.md 56).
 * f32 weights are transposed from where they are mapped, 16 x 16 at a time, without the copy of the
 * rows into an array. Only loaded with the Vector API.
 */
final class Panels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);
    /** The panels are this thread's scratch, written and read in the machine's order. */
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Rows per panel. */
    private static final int L = F.length();
    /** Tokens per full tile. */
    private static final int TOKENS = 12;
    /** The panels' transposes go through two-table int permutes, written for sixteen lanes (AVX-512). */
    private static final boolean PERMUTE = L == 16;
    private static final IntVector[] LOW = new IntVector[4];
    private static final IntVector[] HIGH = new IntVector[4];

    static {
        if (PERMUTE) {
            for (int level = 0; level < 4; level++) {
                int h = 8 >> level;
                int[] low = new int[L];
                int[] high = new int[L];
                for (int k = 0; k < L; k++) {
                    low[k] = (k & h) == 0 ? k : L + k - h;
                    high[k] = (k & h) == 0 ? k + h : L + k;
                }
                LOW[level] = IntVector.fromArray(I, low, 0);
                HIGH[level] = IntVector.fromArray(I, high, 0);
            }
        }
    }

    /** f32 rows packed where they are mapped (off, for the kernel bench: copied into an array first). */
    static final boolean IN_PLACE = !Boolean.getBoolean("cleargate.engine.panelRowsCopied");

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** This thread's buffers: decoded rows, their panel, and a tile's sums when a panel is partial. */
    private static final class Scratch {
        float[] rows = new float[0];
        /**
         * The packed panels, off the heap from a 64-byte boundary: each panel vector one cache line. In a
         * heap array they started 16 bytes past a line (every 512-bit load split over two lines): the
         * four-panel tiles alone ran 60.3 us a block there against 49.3 aligned (speed.md 56).
         */
        MemorySegment panel = MemorySegment.NULL;
        final float[] partial = new float[TOKENS * 2 * L];
        /** One L x L block of f32 rows on its way from the mapped weights into a panel. */
        final float[] block = new float[L * L];

        void fit(int cols) {
            if (rows.length < 4 * L * cols) {
                rows = new float[4 * L * cols];
                panel = Arena.ofAuto().allocate(4L * L * cols * Float.BYTES, 64);
            }
        }
    }

    private Panels() {}

    /**
     * Rows {@code from .. to} of {@code W x} for {@code n} tokens ({@code n >= 2}), as {@link
     * Kernels#matmulRows}: {@code out[outOff + t * outStride + r] = W[r] . x[xOff + t * xStride ..]}.
     */
    static void matmulRows(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride,
                           int from, int to) {
        int cols = w.cols();
        Scratch s = SCRATCH.get();
        s.fit(cols);
        boolean inPlace = IN_PLACE && PERMUTE && w.scale() == null && w.tensor().dtype() == DType.F32;
        for (int r = from; r < to; ) {
            int left = to - r;
            int panels = left >= 4 * L ? 4 : left > L ? 2 : 1;
            int count = Math.min(panels * L, left);
            if (inPlace) {
                for (int h = 0; h < panels; h++) {
                    packF32(w, r + h * L, Math.min(L, count - h * L), s.panel, h, panels, s.block);
                }
            } else {
                for (int k = 0; k < count; k++) {
                    Kernels.decodeRow(w, r + k, s.rows, k * cols);
                }
                java.util.Arrays.fill(s.rows, count * cols, panels * L * cols, 0f);
                for (int h = 0; h < panels; h++) {
                    pack(s.rows, h * L * cols, cols, s.panel, h, panels);
                }
            }
            if (count == panels * L) {
                tokens(s.panel, panels, cols, x, xOff, n, xStride, out, outOff + r, outStride);
            } else {
                // A partial panel (one or two): its tiles write into scratch, and only the valid rows are copied out.
                for (int t = 0; t < n; t += TOKENS) {
                    int m = Math.min(TOKENS, n - t);
                    tokens(s.panel, panels, cols, x, xOff + t * xStride, m, xStride, s.partial, 0, 2 * L);
                    for (int j = 0; j < m; j++) {
                        System.arraycopy(s.partial, j * 2 * L, out, outOff + (t + j) * outStride + r, count);
                    }
                }
            }
            r += count;
        }
    }

    /** All {@code n} tokens against packed panels: four panels in tiles of six tokens, two or one in tiles of twelve; then four, then one. */
    private static void tokens(MemorySegment p, int halves, int cols, float[] x, int xOff, int n, int xStride, float[] out,
                               int outOff, int outStride) {
        int t = 0;
        if (halves == 4) {
            for (; t + 6 <= n; t += 6) {
                p4x6(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            }
            for (; t + 4 <= n; t += 4) {
                p4x4(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            }
            for (; t < n; t++) {
                p4x1(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            }
            return;
        }
        for (; t + TOKENS <= n; t += TOKENS) {
            if (halves == 2) {
                p2x12(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            } else {
                p1x12(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            }
        }
        for (; t + 4 <= n; t += 4) {
            if (halves == 2) {
                p2x4(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            } else {
                p1x4(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            }
        }
        for (; t < n; t++) {
            if (halves == 2) {
                p2x1(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            } else {
                p1x1(p, cols, x, xOff + t * xStride, xStride, out, outOff + t * outStride, outStride);
            }
        }
    }

    /**
     * Rows {@code rows[at + j * cols ..]} for j below L (decoded), transposed into panel {@code h} of {@code halves}:
     * {@code panel[(k * halves + h) * L + j] = row j's column k}.
     */
    static void pack(float[] rows, int at, int cols, MemorySegment panel, int h, int halves) {
        int c = 0;
        if (PERMUTE) {
            for (; c + L <= cols; c += L) {
                transpose16(rows, at + c, cols, panel, (c * halves + h) * L, halves * L);
            }
        }
        for (; c < cols; c++) {
            int o = (c * halves + h) * L;
            for (int j = 0; j < L; j++) {
                panel.setAtIndex(ValueLayout.JAVA_FLOAT, o + j, rows[at + j * cols + c]);
            }
        }
    }

    /**
     * f32 rows {@code first .. first + valid} of {@code w} ({@code valid <= L}) read where they are mapped, transposed
     * into panel {@code h} as {@link #pack} does; the panel's rows from {@code valid} on are zero. Each 16 x 16 block
     * goes through {@code block} (L x L, in L1): copying whole rows into an array first was a pass over every
     * weight more, and a transpose that loads from either place was not compiled inline.
     */
    static void packF32(Matrix w, int first, int valid, MemorySegment panel, int h, int halves, float[] block) {
        MemorySegment seg = w.tensor().data();
        long at = w.rowStart(first) * Float.BYTES;
        int cols = w.cols();
        int c = 0;
        if (PERMUTE) {
            java.util.Arrays.fill(block, valid * L, L * L, 0f);
            for (; c + L <= cols; c += L) {
                for (int j = 0; j < valid; j++) {
                    FloatVector.fromMemorySegment(F, seg, at + ((long) j * cols + c) * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                            .intoArray(block, j * L);
                }
                transpose16(block, 0, L, panel, (c * halves + h) * L, halves * L);
            }
        }
        for (; c < cols; c++) {
            int o = (c * halves + h) * L;
            for (int j = 0; j < L; j++) {
                float v = j < valid ? seg.get(Tensor.F32, at + ((long) j * cols + c) * Float.BYTES) : 0f;
                panel.setAtIndex(ValueLayout.JAVA_FLOAT, o + j, v);
            }
        }
    }

    /**
     * A 16 x 16 block ({@code src[from + j * stride + k]}) transposed into {@code dst[to + k * dstStride + j]}:
     * four levels of 2 x 2 block swaps, each a pair of two-table int permutes per pair of vectors
     * (the float permutes are not compiled to one instruction, speed.md 42).
     */
    static void transpose16(float[] src, int from, int stride, MemorySegment dst, int to, int dstStride) {
        IntVector v0 = FloatVector.fromArray(F, src, from + 0 * stride).reinterpretAsInts();
        IntVector v1 = FloatVector.fromArray(F, src, from + 1 * stride).reinterpretAsInts();
        IntVector v2 = FloatVector.fromArray(F, src, from + 2 * stride).reinterpretAsInts();
        IntVector v3 = FloatVector.fromArray(F, src, from + 3 * stride).reinterpretAsInts();
        IntVector v4 = FloatVector.fromArray(F, src, from + 4 * stride).reinterpretAsInts();
        IntVector v5 = FloatVector.fromArray(F, src, from + 5 * stride).reinterpretAsInts();
        IntVector v6 = FloatVector.fromArray(F, src, from + 6 * stride).reinterpretAsInts();
        IntVector v7 = FloatVector.fromArray(F, src, from + 7 * stride).reinterpretAsInts();
        IntVector v8 = FloatVector.fromArray(F, src, from + 8 * stride).reinterpretAsInts();
        IntVector v9 = FloatVector.fromArray(F, src, from + 9 * stride).reinterpretAsInts();
        IntVector v10 = FloatVector.fromArray(F, src, from + 10 * stride).reinterpretAsInts();
        IntVector v11 = FloatVector.fromArray(F, src, from + 11 * stride).reinterpretAsInts();
        IntVector v12 = FloatVector.fromArray(F, src, from + 12 * stride).reinterpretAsInts();
        IntVector v13 = FloatVector.fromArray(F, src, from + 13 * stride).reinterpretAsInts();
        IntVector v14 = FloatVector.fromArray(F, src, from + 14 * stride).reinterpretAsInts();
        IntVector v15 = FloatVector.fromArray(F, src, from + 15 * stride).reinterpretAsInts();
        IntVector a;
        IntVector b;
        IntVector low0 = LOW[0];
        IntVector high0 = HIGH[0];
        a = v0;
        b = v8;
        v0 = low0.selectFrom(a, b);
        v8 = high0.selectFrom(a, b);
        a = v1;
        b = v9;
        v1 = low0.selectFrom(a, b);
        v9 = high0.selectFrom(a, b);
        a = v2;
        b = v10;
        v2 = low0.selectFrom(a, b);
        v10 = high0.selectFrom(a, b);
        a = v3;
        b = v11;
        v3 = low0.selectFrom(a, b);
        v11 = high0.selectFrom(a, b);
        a = v4;
        b = v12;
        v4 = low0.selectFrom(a, b);
        v12 = high0.selectFrom(a, b);
        a = v5;
        b = v13;
        v5 = low0.selectFrom(a, b);
        v13 = high0.selectFrom(a, b);
        a = v6;
        b = v14;
        v6 = low0.selectFrom(a, b);
        v14 = high0.selectFrom(a, b);
        a = v7;
        b = v15;
        v7 = low0.selectFrom(a, b);
        v15 = high0.selectFrom(a, b);
        IntVector low1 = LOW[1];
        IntVector high1 = HIGH[1];
        a = v0;
        b = v4;
        v0 = low1.selectFrom(a, b);
        v4 = high1.selectFrom(a, b);
        a = v1;
        b = v5;
        v1 = low1.selectFrom(a, b);
        v5 = high1.selectFrom(a, b);
        a = v2;
        b = v6;
        v2 = low1.selectFrom(a, b);
        v6 = high1.selectFrom(a, b);
        a = v3;
        b = v7;
        v3 = low1.selectFrom(a, b);
        v7 = high1.selectFrom(a, b);
        a = v8;
        b = v12;
        v8 = low1.selectFrom(a, b);
        v12 = high1.selectFrom(a, b);
        a = v9;
        b = v13;
        v9 = low1.selectFrom(a, b);
        v13 = high1.selectFrom(a, b);
        a = v10;
        b = v14;
        v10 = low1.selectFrom(a, b);
        v14 = high1.selectFrom(a, b);
        a = v11;
        b = v15;
        v11 = low1.selectFrom(a, b);
        v15 = high1.selectFrom(a, b);
        IntVector low2 = LOW[2];
        IntVector high2 = HIGH[2];
        a = v0;
        b = v2;
        v0 = low2.selectFrom(a, b);
        v2 = high2.selectFrom(a, b);
        a = v1;
        b = v3;
        v1 = low2.selectFrom(a, b);
        v3 = high2.selectFrom(a, b);
        a = v4;
        b = v6;
        v4 = low2.selectFrom(a, b);
        v6 = high2.selectFrom(a, b);
        a = v5;
        b = v7;
        v5 = low2.selectFrom(a, b);
        v7 = high2.selectFrom(a, b);
        a = v8;
        b = v10;
        v8 = low2.selectFrom(a, b);
        v10 = high2.selectFrom(a, b);
        a = v9;
        b = v11;
        v9 = low2.selectFrom(a, b);
        v11 = high2.selectFrom(a, b);
        a = v12;
        b = v14;
        v12 = low2.selectFrom(a, b);
        v14 = high2.selectFrom(a, b);
        a = v13;
        b = v15;
        v13 = low2.selectFrom(a, b);
        v15 = high2.selectFrom(a, b);
        IntVector low3 = LOW[3];
        IntVector high3 = HIGH[3];
        a = v0;
        b = v1;
        v0 = low3.selectFrom(a, b);
        v1 = high3.selectFrom(a, b);
        a = v2;
        b = v3;
        v2 = low3.selectFrom(a, b);
        v3 = high3.selectFrom(a, b);
        a = v4;
        b = v5;
        v4 = low3.selectFrom(a, b);
        v5 = high3.selectFrom(a, b);
        a = v6;
        b = v7;
        v6 = low3.selectFrom(a, b);
        v7 = high3.selectFrom(a, b);
        a = v8;
        b = v9;
        v8 = low3.selectFrom(a, b);
        v9 = high3.selectFrom(a, b);
        a = v10;
        b = v11;
        v10 = low3.selectFrom(a, b);
        v11 = high3.selectFrom(a, b);
        a = v12;
        b = v13;
        v12 = low3.selectFrom(a, b);
        v13 = high3.selectFrom(a, b);
        a = v14;
        b = v15;
        v14 = low3.selectFrom(a, b);
        v15 = high3.selectFrom(a, b);
        v0.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 0 * dstStride) * 4, NATIVE);
        v1.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 1 * dstStride) * 4, NATIVE);
        v2.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 2 * dstStride) * 4, NATIVE);
        v3.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 3 * dstStride) * 4, NATIVE);
        v4.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 4 * dstStride) * 4, NATIVE);
        v5.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 5 * dstStride) * 4, NATIVE);
        v6.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 6 * dstStride) * 4, NATIVE);
        v7.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 7 * dstStride) * 4, NATIVE);
        v8.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 8 * dstStride) * 4, NATIVE);
        v9.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 9 * dstStride) * 4, NATIVE);
        v10.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 10 * dstStride) * 4, NATIVE);
        v11.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 11 * dstStride) * 4, NATIVE);
        v12.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 12 * dstStride) * 4, NATIVE);
        v13.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 13 * dstStride) * 4, NATIVE);
        v14.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 14 * dstStride) * 4, NATIVE);
        v15.reinterpretAsFloats().intoMemorySegment(dst, (long) (to + 15 * dstStride) * 4, NATIVE);
    }

    /** Four panels (4 L rows) against 6 tokens: row lanes, sums in order of k. */
    private static void p4x6(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector d2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector d3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F);
        FloatVector c4 = FloatVector.zero(F);
        FloatVector d4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector b5 = FloatVector.zero(F);
        FloatVector c5 = FloatVector.zero(F);
        FloatVector d5 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int x4 = xOff + 4 * xStride;
        int x5 = xOff + 5 * xStride;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 0) * len) * 4, NATIVE);
            FloatVector v = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 1) * len) * 4, NATIVE);
            FloatVector w = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 2) * len) * 4, NATIVE);
            FloatVector z = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 3) * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
            y = FloatVector.broadcast(F, x[x4 + k]);
            a4 = u.fma(y, a4);
            b4 = v.fma(y, b4);
            c4 = w.fma(y, c4);
            d4 = z.fma(y, d4);
            y = FloatVector.broadcast(F, x[x5 + k]);
            a5 = u.fma(y, a5);
            b5 = v.fma(y, b5);
            c5 = w.fma(y, c5);
            d5 = z.fma(y, d5);
        }
        a0.intoArray(out, outOff);
        b0.intoArray(out, outOff + len);
        c0.intoArray(out, outOff + 2 * len);
        d0.intoArray(out, outOff + 3 * len);
        a1.intoArray(out, outOff + outStride);
        b1.intoArray(out, outOff + outStride + len);
        c1.intoArray(out, outOff + outStride + 2 * len);
        d1.intoArray(out, outOff + outStride + 3 * len);
        a2.intoArray(out, outOff + 2 * outStride);
        b2.intoArray(out, outOff + 2 * outStride + len);
        c2.intoArray(out, outOff + 2 * outStride + 2 * len);
        d2.intoArray(out, outOff + 2 * outStride + 3 * len);
        a3.intoArray(out, outOff + 3 * outStride);
        b3.intoArray(out, outOff + 3 * outStride + len);
        c3.intoArray(out, outOff + 3 * outStride + 2 * len);
        d3.intoArray(out, outOff + 3 * outStride + 3 * len);
        a4.intoArray(out, outOff + 4 * outStride);
        b4.intoArray(out, outOff + 4 * outStride + len);
        c4.intoArray(out, outOff + 4 * outStride + 2 * len);
        d4.intoArray(out, outOff + 4 * outStride + 3 * len);
        a5.intoArray(out, outOff + 5 * outStride);
        b5.intoArray(out, outOff + 5 * outStride + len);
        c5.intoArray(out, outOff + 5 * outStride + 2 * len);
        d5.intoArray(out, outOff + 5 * outStride + 3 * len);
    }

    /** Four panels (4 L rows) against 4 tokens: row lanes, sums in order of k. */
    private static void p4x4(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector d2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector d3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 0) * len) * 4, NATIVE);
            FloatVector v = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 1) * len) * 4, NATIVE);
            FloatVector w = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 2) * len) * 4, NATIVE);
            FloatVector z = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 3) * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            c1 = w.fma(y, c1);
            d1 = z.fma(y, d1);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            c2 = w.fma(y, c2);
            d2 = z.fma(y, d2);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            c3 = w.fma(y, c3);
            d3 = z.fma(y, d3);
        }
        a0.intoArray(out, outOff);
        b0.intoArray(out, outOff + len);
        c0.intoArray(out, outOff + 2 * len);
        d0.intoArray(out, outOff + 3 * len);
        a1.intoArray(out, outOff + outStride);
        b1.intoArray(out, outOff + outStride + len);
        c1.intoArray(out, outOff + outStride + 2 * len);
        d1.intoArray(out, outOff + outStride + 3 * len);
        a2.intoArray(out, outOff + 2 * outStride);
        b2.intoArray(out, outOff + 2 * outStride + len);
        c2.intoArray(out, outOff + 2 * outStride + 2 * len);
        d2.intoArray(out, outOff + 2 * outStride + 3 * len);
        a3.intoArray(out, outOff + 3 * outStride);
        b3.intoArray(out, outOff + 3 * outStride + len);
        c3.intoArray(out, outOff + 3 * outStride + 2 * len);
        d3.intoArray(out, outOff + 3 * outStride + 3 * len);
    }

    /** Four panels (4 L rows) against 1 token: row lanes, sums in order of k. */
    private static void p4x1(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        int x0 = xOff;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 0) * len) * 4, NATIVE);
            FloatVector v = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 1) * len) * 4, NATIVE);
            FloatVector w = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 2) * len) * 4, NATIVE);
            FloatVector z = FloatVector.fromMemorySegment(F, p, (long) ((4 * k + 3) * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            c0 = w.fma(y, c0);
            d0 = z.fma(y, d0);
        }
        a0.intoArray(out, outOff);
        b0.intoArray(out, outOff + len);
        c0.intoArray(out, outOff + 2 * len);
        d0.intoArray(out, outOff + 3 * len);
    }

    /** Two panels (2 L rows) against 12 tokens: row lanes, sums in order of k. */
    private static void p2x12(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector b5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector b6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector b7 = FloatVector.zero(F);
        FloatVector a8 = FloatVector.zero(F);
        FloatVector b8 = FloatVector.zero(F);
        FloatVector a9 = FloatVector.zero(F);
        FloatVector b9 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector b10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector b11 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int x4 = xOff + 4 * xStride;
        int x5 = xOff + 5 * xStride;
        int x6 = xOff + 6 * xStride;
        int x7 = xOff + 7 * xStride;
        int x8 = xOff + 8 * xStride;
        int x9 = xOff + 9 * xStride;
        int x10 = xOff + 10 * xStride;
        int x11 = xOff + 11 * xStride;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) (2 * k * len) * 4, NATIVE);
            FloatVector v = FloatVector.fromMemorySegment(F, p, (long) ((2 * k + 1) * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
            y = FloatVector.broadcast(F, x[x4 + k]);
            a4 = u.fma(y, a4);
            b4 = v.fma(y, b4);
            y = FloatVector.broadcast(F, x[x5 + k]);
            a5 = u.fma(y, a5);
            b5 = v.fma(y, b5);
            y = FloatVector.broadcast(F, x[x6 + k]);
            a6 = u.fma(y, a6);
            b6 = v.fma(y, b6);
            y = FloatVector.broadcast(F, x[x7 + k]);
            a7 = u.fma(y, a7);
            b7 = v.fma(y, b7);
            y = FloatVector.broadcast(F, x[x8 + k]);
            a8 = u.fma(y, a8);
            b8 = v.fma(y, b8);
            y = FloatVector.broadcast(F, x[x9 + k]);
            a9 = u.fma(y, a9);
            b9 = v.fma(y, b9);
            y = FloatVector.broadcast(F, x[x10 + k]);
            a10 = u.fma(y, a10);
            b10 = v.fma(y, b10);
            y = FloatVector.broadcast(F, x[x11 + k]);
            a11 = u.fma(y, a11);
            b11 = v.fma(y, b11);
        }
        a0.intoArray(out, outOff);
        b0.intoArray(out, outOff + len);
        a1.intoArray(out, outOff + outStride);
        b1.intoArray(out, outOff + outStride + len);
        a2.intoArray(out, outOff + 2 * outStride);
        b2.intoArray(out, outOff + 2 * outStride + len);
        a3.intoArray(out, outOff + 3 * outStride);
        b3.intoArray(out, outOff + 3 * outStride + len);
        a4.intoArray(out, outOff + 4 * outStride);
        b4.intoArray(out, outOff + 4 * outStride + len);
        a5.intoArray(out, outOff + 5 * outStride);
        b5.intoArray(out, outOff + 5 * outStride + len);
        a6.intoArray(out, outOff + 6 * outStride);
        b6.intoArray(out, outOff + 6 * outStride + len);
        a7.intoArray(out, outOff + 7 * outStride);
        b7.intoArray(out, outOff + 7 * outStride + len);
        a8.intoArray(out, outOff + 8 * outStride);
        b8.intoArray(out, outOff + 8 * outStride + len);
        a9.intoArray(out, outOff + 9 * outStride);
        b9.intoArray(out, outOff + 9 * outStride + len);
        a10.intoArray(out, outOff + 10 * outStride);
        b10.intoArray(out, outOff + 10 * outStride + len);
        a11.intoArray(out, outOff + 11 * outStride);
        b11.intoArray(out, outOff + 11 * outStride + len);
    }

    /** Two panels (2 L rows) against 4 tokens: row lanes, sums in order of k. */
    private static void p2x4(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) (2 * k * len) * 4, NATIVE);
            FloatVector v = FloatVector.fromMemorySegment(F, p, (long) ((2 * k + 1) * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a1 = u.fma(y, a1);
            b1 = v.fma(y, b1);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a2 = u.fma(y, a2);
            b2 = v.fma(y, b2);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a3 = u.fma(y, a3);
            b3 = v.fma(y, b3);
        }
        a0.intoArray(out, outOff);
        b0.intoArray(out, outOff + len);
        a1.intoArray(out, outOff + outStride);
        b1.intoArray(out, outOff + outStride + len);
        a2.intoArray(out, outOff + 2 * outStride);
        b2.intoArray(out, outOff + 2 * outStride + len);
        a3.intoArray(out, outOff + 3 * outStride);
        b3.intoArray(out, outOff + 3 * outStride + len);
    }

    /** Two panels (2 L rows) against 1 token: row lanes, sums in order of k. */
    private static void p2x1(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        int x0 = xOff;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) (2 * k * len) * 4, NATIVE);
            FloatVector v = FloatVector.fromMemorySegment(F, p, (long) ((2 * k + 1) * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            b0 = v.fma(y, b0);
        }
        a0.intoArray(out, outOff);
        b0.intoArray(out, outOff + len);
    }

    /** One panel (L rows) against 12 tokens: row lanes, sums in order of k. */
    private static void p1x12(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector a8 = FloatVector.zero(F);
        FloatVector a9 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int x4 = xOff + 4 * xStride;
        int x5 = xOff + 5 * xStride;
        int x6 = xOff + 6 * xStride;
        int x7 = xOff + 7 * xStride;
        int x8 = xOff + 8 * xStride;
        int x9 = xOff + 9 * xStride;
        int x10 = xOff + 10 * xStride;
        int x11 = xOff + 11 * xStride;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) (k * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a1 = u.fma(y, a1);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a2 = u.fma(y, a2);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a3 = u.fma(y, a3);
            y = FloatVector.broadcast(F, x[x4 + k]);
            a4 = u.fma(y, a4);
            y = FloatVector.broadcast(F, x[x5 + k]);
            a5 = u.fma(y, a5);
            y = FloatVector.broadcast(F, x[x6 + k]);
            a6 = u.fma(y, a6);
            y = FloatVector.broadcast(F, x[x7 + k]);
            a7 = u.fma(y, a7);
            y = FloatVector.broadcast(F, x[x8 + k]);
            a8 = u.fma(y, a8);
            y = FloatVector.broadcast(F, x[x9 + k]);
            a9 = u.fma(y, a9);
            y = FloatVector.broadcast(F, x[x10 + k]);
            a10 = u.fma(y, a10);
            y = FloatVector.broadcast(F, x[x11 + k]);
            a11 = u.fma(y, a11);
        }
        a0.intoArray(out, outOff);
        a1.intoArray(out, outOff + outStride);
        a2.intoArray(out, outOff + 2 * outStride);
        a3.intoArray(out, outOff + 3 * outStride);
        a4.intoArray(out, outOff + 4 * outStride);
        a5.intoArray(out, outOff + 5 * outStride);
        a6.intoArray(out, outOff + 6 * outStride);
        a7.intoArray(out, outOff + 7 * outStride);
        a8.intoArray(out, outOff + 8 * outStride);
        a9.intoArray(out, outOff + 9 * outStride);
        a10.intoArray(out, outOff + 10 * outStride);
        a11.intoArray(out, outOff + 11 * outStride);
    }

    /** One panel (L rows) against 4 tokens: row lanes, sums in order of k. */
    private static void p1x4(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) (k * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
            y = FloatVector.broadcast(F, x[x1 + k]);
            a1 = u.fma(y, a1);
            y = FloatVector.broadcast(F, x[x2 + k]);
            a2 = u.fma(y, a2);
            y = FloatVector.broadcast(F, x[x3 + k]);
            a3 = u.fma(y, a3);
        }
        a0.intoArray(out, outOff);
        a1.intoArray(out, outOff + outStride);
        a2.intoArray(out, outOff + 2 * outStride);
        a3.intoArray(out, outOff + 3 * outStride);
    }

    /** One panel (L rows) against 1 token: row lanes, sums in order of k. */
    private static void p1x1(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        FloatVector a0 = FloatVector.zero(F);
        int x0 = xOff;
        int len = F.length();
        for (int k = 0; k < cols; k++) {
            FloatVector u = FloatVector.fromMemorySegment(F, p, (long) (k * len) * 4, NATIVE);
            FloatVector y = FloatVector.broadcast(F, x[x0 + k]);
            a0 = u.fma(y, a0);
        }
        a0.intoArray(out, outOff);
    }

}
