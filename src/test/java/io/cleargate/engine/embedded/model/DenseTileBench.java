package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;

/**
 * Not a test: one thread's rate on a prefill's dense batch products (64 tokens, rows taken in chunks of
 * 64 as the team takes them) through {@link Kernels#matmulRows}, for f32 and bf16 weights 8 bytes past
 * a line as in the benchmark's safetensors files. Run once per kernel choice (a JVM option) and compare.
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.DenseTileBench ROWS COLS TOKENS ROUNDS [CHUNK]</pre>
 *
 * CHUNK (default 64) is the rows of one call, as a step's {@link Chunks} deal them.
 */
public final class DenseTileBench {

    public static void main(String[] args) {
        int rows = Integer.parseInt(args[0]);
        int cols = Integer.parseInt(args[1]);
        int tokens = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        int chunk = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        Random rnd = new Random(3);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] out = new float[tokens * rows];
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            long elements = (long) rows * cols;
            MemorySegment seg = Arena.ofShared().allocate(elements * dtype.bytes() + 64, 64).asSlice(8, elements * dtype.bytes());
            ExpertTileBench.fillWeights(seg, dtype, elements, rnd);
            Matrix w = new Matrix(new Tensor("w", dtype, new long[] {rows, cols}, seg), 0, rows, cols);
            StringBuilder line = new StringBuilder();
            double best = Double.MAX_VALUE;
            for (int round = 0; round < rounds; round++) {
                int reps = 0;
                long t0 = System.nanoTime();
                long t;
                do {
                    for (int r = 0; r < rows; r += chunk) {
                        Kernels.matmulRows(w, x, 0, tokens, cols, out, 0, rows, r, Math.min(rows, r + chunk));
                    }
                    reps++;
                } while ((t = System.nanoTime() - t0) < 500_000_000L);
                double ms = t / 1e6 / reps;
                best = Math.min(best, ms);
                if (round > 0) {
                    line.append(String.format(Locale.ROOT, " %.3f", ms));
                }
            }
            System.out.printf(Locale.ROOT, "%s %dx%d, %d tokens, chunks of %d, panels=%s: best %.3f ms (%.1f GMAC/s); rounds:%s%n", dtype, rows, cols,
                    tokens, chunk, Kernels.PANELS, best, (double) rows * cols * tokens / best / 1e6, line);
        }
    }
}
