package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;

/**
 * Not a test: where a {@link Panels} call's time goes, one thread. For one four-panel block (64 rows of
 * COLS columns) against TOKENS tokens: the packing alone (from decoded rows, or f32 rows in place) and the
 * rows' decoding, and whole calls of {@link Kernels#matmulRows} and of {@link TokenLanes} on weights that
 * stay in cache or that are read from memory (copies of the weights, together larger than the L3, taken
 * in turn). (The tiles alone on a heap-array panel against an aligned segment, speed.md 56, ran from this
 * bench's version in commit 3754634.)
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.PanelTileBench COLS TOKENS ROUNDS</pre>
 */
public final class PanelTileBench {

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
        double macs = (double) 4 * L * cols * tokens;
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
                if (TokenLanes.of(x, 0, tokens, cols, cols) != null) {
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
}
