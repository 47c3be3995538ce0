package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Not a test: where a {@link Panels} call's time goes, one thread. For one four-panel block (64 rows of
 * COLS columns) against TOKENS tokens: the tiles alone on a packed panel (the panel in a heap array,
 * whose vectors start 16 bytes past a line, or in a 64-byte aligned native segment, or the tiles over
 * column blocks of KC so that the panel's block stays in L1), and whole calls of {@link Kernels#matmulRows}
 * on weights that stay in cache or that are read from memory (copies of the weights, together larger
 * than the L3, taken in turn).
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.PanelTileBench COLS TOKENS ROUNDS</pre>
 */
public final class PanelTileBench {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final int L = 16;

    public static void main(String[] args) {
        int cols = Integer.parseInt(args[0]);
        int tokens = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        Random rnd = new Random(5);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] rows = new float[4 * L * cols];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (float) rnd.nextGaussian();
        }
        float[] panel = new float[4 * L * cols];
        MemorySegment seg = Arena.ofAuto().allocate(panel.length * 4L + 64, 64);
        MemorySegment aligned = seg.asSlice(0, panel.length * 4L);
        MemorySegment off16 = seg.asSlice(16, panel.length * 4L);
        for (int h = 0; h < 4; h++) {
            Panels.pack(rows, h * L * cols, cols, aligned, h, 4);
        }
        MemorySegment.copy(aligned, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, panel, 0, panel.length);
        float[] out = new float[tokens * 4 * L];
        float[] ref = new float[tokens * 4 * L];
        double macs = (double) 4 * L * cols * tokens;
        arrays(panel, cols, x, tokens, ref);
        for (int round = 0; round < rounds; round++) {
            StringBuilder line = new StringBuilder("round " + round + ":");
            line.append(rate("array", macs, () -> arrays(panel, cols, x, tokens, out)));
            check(ref, out);
            line.append(rate("segment64", macs, () -> segments(aligned, cols, x, tokens, out)));
            check(ref, out);
            MemorySegment.copy(panel, 0, off16, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, panel.length);
            line.append(rate("segment16", macs, () -> segments(off16, cols, x, tokens, out)));
            check(ref, out);
            MemorySegment.copy(panel, 0, aligned, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, panel.length);
            for (int kc : new int[] {128, 256}) {
                line.append(rate("blocked" + kc, macs, () -> blocked(panel, cols, kc, x, tokens, out)));
                check(ref, out);
            }
            System.out.println(line);
        }
        // Whole calls: decode, pack and tiles, with the weights hot (one matrix) or cold (copies over 600 MB).
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            long elements = 64L * cols;
            int copies = (int) Math.max(1, 600L * 1024 * 1024 / (elements * dtype.bytes()));
            MemorySegment all = Arena.ofAuto().allocate(copies * elements * dtype.bytes() + 64, 64);
            ExpertTileBench.fillWeights(all.asSlice(8, copies * elements * dtype.bytes()), dtype, copies * elements, rnd);
            Matrix[] ws = new Matrix[copies];
            for (int c = 0; c < copies; c++) {
                MemorySegment s = all.asSlice(8 + c * elements * dtype.bytes(), elements * dtype.bytes());
                ws[c] = new Matrix(new Tensor("w" + c, dtype, new long[] {64, cols}, s), 0, 64, cols);
            }
            float[] o = new float[tokens * 64];
            MemorySegment packed = Arena.ofAuto().allocate(4L * L * cols * 4, 64);
            float[] block = new float[L * L];
            for (int round = 0; round < rounds; round++) {
                String fromRows = rate("pack from rows", macs, () -> {
                    for (int h = 0; h < 4; h++) {
                        Panels.pack(rows, h * L * cols, cols, packed, h, 4);
                    }
                });
                String inPlace = dtype != DType.F32 ? "" : rate("pack in place", macs, () -> {
                    for (int h = 0; h < 4; h++) {
                        Panels.packF32(ws[0], h * L, L, packed, h, 4, block);
                    }
                });
                String decode = rate("decode rows", macs, () -> {
                    for (int k = 0; k < 64; k++) {
                        Kernels.decodeRow(ws[0], k, rows, k * cols);
                    }
                });
                System.out.println(dtype + " packing, round " + round + ":" + fromRows + inPlace + decode);
            }
            for (int round = 0; round < rounds; round++) {
                int[] next = {0};
                String hot = rate("hot", macs, () -> Kernels.matmulRows(ws[0], x, 0, tokens, cols, o, 0, 64, 0, 64));
                String cold = rate("cold", macs, () -> {
                    Kernels.matmulRows(ws[next[0]], x, 0, tokens, cols, o, 0, 64, 0, 64);
                    next[0] = (next[0] + 1) % copies;
                });
                String lanes = "";
                if (dtype == DType.F32 && TokenLanes.of(x, 0, tokens, cols, cols) != null) {
                    float[] o2 = new float[o.length];
                    Kernels.matmulRows(ws[0], x, 0, tokens, cols, o, 0, 64, 0, 64);
                    TokenLanes.Input in = TokenLanes.of(x, 0, tokens, cols, cols);
                    TokenLanes.matmulRows(ws[0], in, o2, 0, 64, 0, 64);
                    check(o, o2);
                    lanes = rate("lanes hot", macs, () -> TokenLanes.matmulRows(ws[0], in, o2, 0, 64, 0, 64))
                            + rate("lanes cold", macs, () -> {
                                TokenLanes.matmulRows(ws[next[0]], in, o2, 0, 64, 0, 64);
                                next[0] = (next[0] + 1) % copies;
                            })
                            + rate("transpose the batch", macs, () -> TokenLanes.of(x, 0, tokens, cols, cols));
                }
                System.out.println(dtype + " whole calls, round " + round + ":" + hot + cold + lanes);
            }
        }
    }

    private static String rate(String name, double macs, Runnable body) {
        long t0 = System.nanoTime();
        long t;
        int reps = 0;
        do {
            body.run();
            reps++;
        } while ((t = System.nanoTime() - t0) < 300_000_000L);
        double us = t / 1e3 / reps;
        return String.format(Locale.ROOT, " %s %.1f us (%.1f GMAC/s)", name, us, macs / us / 1e3);
    }

    private static void check(float[] ref, float[] out) {
        for (int i = 0; i < ref.length; i++) {
            if (Float.floatToIntBits(ref[i]) != Float.floatToIntBits(out[i])) {
                throw new AssertionError("differs at " + i + ": " + ref[i] + " vs " + out[i]);
            }
        }
    }

    static void arrays(float[] p, int cols, float[] x, int n, float[] out) {
        for (int t = 0; t + 6 <= n; t += 6) {
            a4x6(p, 0, cols, x, t * cols, cols, out, t * 64, 64, true);
        }
        for (int t = n / 6 * 6; t < n; t++) {
            single(p, cols, x, t * cols, out, t * 64);
        }
    }

    static void blocked(float[] p, int cols, int kc, float[] x, int n, float[] out) {
        for (int k0 = 0; k0 < cols; k0 += kc) {
            int k1 = Math.min(cols, k0 + kc);
            for (int t = 0; t + 6 <= n; t += 6) {
                a4x6(p, k0, k1, x, t * cols, cols, out, t * 64, 64, k0 == 0);
            }
        }
        for (int t = n / 6 * 6; t < n; t++) {
            single(p, cols, x, t * cols, out, t * 64);
        }
    }

    static void segments(MemorySegment p, int cols, float[] x, int n, float[] out) {
        for (int t = 0; t + 6 <= n; t += 6) {
            s4x6(p, cols, x, t * cols, cols, out, t * 64, 64);
        }
        // Tokens past the last whole tile of six: not timed here (run TOKENS a multiple of 6).
    }

    private static void single(float[] p, int cols, float[] x, int xOff, float[] out, int outOff) {
        for (int h = 0; h < 4; h++) {
            FloatVector a = FloatVector.zero(F);
            for (int k = 0; k < cols; k++) {
                a = FloatVector.fromArray(F, p, (4 * k + h) * L).fma(FloatVector.broadcast(F, x[xOff + k]), a);
            }
            a.intoArray(out, outOff + h * L);
        }
    }

    /** Panels' four-panel, six-token tile over columns {@code k0 .. k1}; the sums start at zero or from {@code out}. */
    static void a4x6(float[] p, int k0, int k1, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride,
                     boolean fresh) {
        FloatVector a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3, a4, b4, c4, d4, a5, b5, c5, d5;
        if (fresh) {
            a0 = b0 = c0 = d0 = a1 = b1 = c1 = d1 = a2 = b2 = c2 = d2 = FloatVector.zero(F);
            a3 = b3 = c3 = d3 = a4 = b4 = c4 = d4 = a5 = b5 = c5 = d5 = FloatVector.zero(F);
        } else {
            a0 = FloatVector.fromArray(F, out, outOff);
            b0 = FloatVector.fromArray(F, out, outOff + L);
            c0 = FloatVector.fromArray(F, out, outOff + 2 * L);
            d0 = FloatVector.fromArray(F, out, outOff + 3 * L);
            a1 = FloatVector.fromArray(F, out, outOff + outStride);
            b1 = FloatVector.fromArray(F, out, outOff + outStride + L);
            c1 = FloatVector.fromArray(F, out, outOff + outStride + 2 * L);
            d1 = FloatVector.fromArray(F, out, outOff + outStride + 3 * L);
            a2 = FloatVector.fromArray(F, out, outOff + 2 * outStride);
            b2 = FloatVector.fromArray(F, out, outOff + 2 * outStride + L);
            c2 = FloatVector.fromArray(F, out, outOff + 2 * outStride + 2 * L);
            d2 = FloatVector.fromArray(F, out, outOff + 2 * outStride + 3 * L);
            a3 = FloatVector.fromArray(F, out, outOff + 3 * outStride);
            b3 = FloatVector.fromArray(F, out, outOff + 3 * outStride + L);
            c3 = FloatVector.fromArray(F, out, outOff + 3 * outStride + 2 * L);
            d3 = FloatVector.fromArray(F, out, outOff + 3 * outStride + 3 * L);
            a4 = FloatVector.fromArray(F, out, outOff + 4 * outStride);
            b4 = FloatVector.fromArray(F, out, outOff + 4 * outStride + L);
            c4 = FloatVector.fromArray(F, out, outOff + 4 * outStride + 2 * L);
            d4 = FloatVector.fromArray(F, out, outOff + 4 * outStride + 3 * L);
            a5 = FloatVector.fromArray(F, out, outOff + 5 * outStride);
            b5 = FloatVector.fromArray(F, out, outOff + 5 * outStride + L);
            c5 = FloatVector.fromArray(F, out, outOff + 5 * outStride + 2 * L);
            d5 = FloatVector.fromArray(F, out, outOff + 5 * outStride + 3 * L);
        }
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int x4 = xOff + 4 * xStride;
        int x5 = xOff + 5 * xStride;
        for (int k = k0; k < k1; k++) {
            FloatVector u = FloatVector.fromArray(F, p, (4 * k) * L);
            FloatVector v = FloatVector.fromArray(F, p, (4 * k + 1) * L);
            FloatVector w = FloatVector.fromArray(F, p, (4 * k + 2) * L);
            FloatVector z = FloatVector.fromArray(F, p, (4 * k + 3) * L);
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
        b0.intoArray(out, outOff + L);
        c0.intoArray(out, outOff + 2 * L);
        d0.intoArray(out, outOff + 3 * L);
        a1.intoArray(out, outOff + outStride);
        b1.intoArray(out, outOff + outStride + L);
        c1.intoArray(out, outOff + outStride + 2 * L);
        d1.intoArray(out, outOff + outStride + 3 * L);
        a2.intoArray(out, outOff + 2 * outStride);
        b2.intoArray(out, outOff + 2 * outStride + L);
        c2.intoArray(out, outOff + 2 * outStride + 2 * L);
        d2.intoArray(out, outOff + 2 * outStride + 3 * L);
        a3.intoArray(out, outOff + 3 * outStride);
        b3.intoArray(out, outOff + 3 * outStride + L);
        c3.intoArray(out, outOff + 3 * outStride + 2 * L);
        d3.intoArray(out, outOff + 3 * outStride + 3 * L);
        a4.intoArray(out, outOff + 4 * outStride);
        b4.intoArray(out, outOff + 4 * outStride + L);
        c4.intoArray(out, outOff + 4 * outStride + 2 * L);
        d4.intoArray(out, outOff + 4 * outStride + 3 * L);
        a5.intoArray(out, outOff + 5 * outStride);
        b5.intoArray(out, outOff + 5 * outStride + L);
        c5.intoArray(out, outOff + 5 * outStride + 2 * L);
        d5.intoArray(out, outOff + 5 * outStride + 3 * L);
    }

    /** The same tile with the panel in a native segment. */
    static void s4x6(MemorySegment p, int cols, float[] x, int xOff, int xStride, float[] out, int outOff, int outStride) {
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        FloatVector a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3, a4, b4, c4, d4, a5, b5, c5, d5;
        a0 = b0 = c0 = d0 = a1 = b1 = c1 = d1 = a2 = b2 = c2 = d2 = FloatVector.zero(F);
        a3 = b3 = c3 = d3 = a4 = b4 = c4 = d4 = a5 = b5 = c5 = d5 = FloatVector.zero(F);
        int x0 = xOff;
        int x1 = xOff + xStride;
        int x2 = xOff + 2 * xStride;
        int x3 = xOff + 3 * xStride;
        int x4 = xOff + 4 * xStride;
        int x5 = xOff + 5 * xStride;
        for (int k = 0; k < cols; k++) {
            long at = k * 256L;
            FloatVector u = FloatVector.fromMemorySegment(F, p, at, le);
            FloatVector v = FloatVector.fromMemorySegment(F, p, at + 64, le);
            FloatVector w = FloatVector.fromMemorySegment(F, p, at + 128, le);
            FloatVector z = FloatVector.fromMemorySegment(F, p, at + 192, le);
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
        b0.intoArray(out, outOff + L);
        c0.intoArray(out, outOff + 2 * L);
        d0.intoArray(out, outOff + 3 * L);
        a1.intoArray(out, outOff + outStride);
        b1.intoArray(out, outOff + outStride + L);
        c1.intoArray(out, outOff + outStride + 2 * L);
        d1.intoArray(out, outOff + outStride + 3 * L);
        a2.intoArray(out, outOff + 2 * outStride);
        b2.intoArray(out, outOff + 2 * outStride + L);
        c2.intoArray(out, outOff + 2 * outStride + 2 * L);
        d2.intoArray(out, outOff + 2 * outStride + 3 * L);
        a3.intoArray(out, outOff + 3 * outStride);
        b3.intoArray(out, outOff + 3 * outStride + L);
        c3.intoArray(out, outOff + 3 * outStride + 2 * L);
        d3.intoArray(out, outOff + 3 * outStride + 3 * L);
        a4.intoArray(out, outOff + 4 * outStride);
        b4.intoArray(out, outOff + 4 * outStride + L);
        c4.intoArray(out, outOff + 4 * outStride + 2 * L);
        d4.intoArray(out, outOff + 4 * outStride + 3 * L);
        a5.intoArray(out, outOff + 5 * outStride);
        b5.intoArray(out, outOff + 5 * outStride + L);
        c5.intoArray(out, outOff + 5 * outStride + 2 * L);
        d5.intoArray(out, outOff + 5 * outStride + 3 * L);
    }
}
