package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Not a test: the routed experts' products of a 64-token prefill of the benchmark model (32 experts of
 * 256 x 1024, 2 per token, 7 MoE layers, token counts drawn as the router spreads 64 tokens), one
 * arm the tiles as they are (4x4, 4x2, 4x1 {@link Tiles} called directly, {@link #oldRows}) and the other {@link Kernels#matmulRows}
 * as it is, alternating in rounds in one process: the harness for a new few-token kernel (put it behind
 * matmulRows and compare). Weights "cold" (every layer's experts apart, mostly from memory) or "hot"
 * (one layer's experts reused: from L3).
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.ExpertTileBench bf16|f32 cold|hot THREADS ROUNDS [SKEW]</pre>
 * SKEW (default 8): bytes from a 64-byte line to the weights' start, as in the benchmark's safetensors files.
 * {@code -Dmats=01} measures only the experts' gate and up, {@code -Dmats=2} only their down.
 */
public final class ExpertTileBench {

    static final int EXPERTS = 32, HIDDEN = 1024, INNER = 256, TOKENS = 64, PICKS = 2;

    public static void main(String[] args) throws Exception {
        DType dtype = args[0].equals("f32") ? DType.F32 : DType.BF16;
        boolean cold = args[1].equals("cold");
        int threads = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        int layers = 7;
        int poolLayers = cold ? layers : 1;
        long perMatrix = (long) INNER * HIDDEN;
        long elements = poolLayers * EXPERTS * 3L * perMatrix;
        // Safetensors puts a tensor where its header ends: 8 bytes past a line in the benchmark's files.
        int skew = args.length > 4 ? Integer.parseInt(args[4]) : 8;
        MemorySegment seg = Arena.ofShared().allocate(elements * dtype.bytes() + 64, 64).asSlice(skew, elements * dtype.bytes());
        Random rnd = new Random(7);
        fillWeights(seg, dtype, elements, rnd);
        Tensor t = new Tensor("pool", dtype, new long[] {elements / HIDDEN, HIDDEN}, seg);
        // Each matrix as its own view: gate and up [256, 1024], down [1024, 256] over the same bytes.
        Matrix[][][] m = new Matrix[poolLayers][EXPERTS][3];
        for (int l = 0; l < poolLayers; l++) {
            for (int e = 0; e < EXPERTS; e++) {
                long base = ((long) l * EXPERTS + e) * 3 * perMatrix;
                m[l][e][0] = new Matrix(t, (int) (base / HIDDEN), INNER, HIDDEN);
                m[l][e][1] = new Matrix(t, (int) ((base + perMatrix) / HIDDEN), INNER, HIDDEN);
                Tensor downView = new Tensor("down", dtype, new long[] {HIDDEN, INNER},
                        seg.asSlice((base + 2 * perMatrix) * dtype.bytes(), perMatrix * dtype.bytes()));
                m[l][e][2] = new Matrix(downView, 0, HIDDEN, INNER);
            }
        }
        int[][] counts = new int[layers][EXPERTS];
        for (int l = 0; l < layers; l++) {
            for (int tok = 0; tok < TOKENS; tok++) {
                int a = rnd.nextInt(EXPERTS);
                int b;
                do {
                    b = rnd.nextInt(EXPERTS);
                } while (b == a);
                counts[l][a]++;
                counts[l][b]++;
            }
        }
        float[] x = new float[TOKENS * HIDDEN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        long macs = 0;
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < EXPERTS; e++) {
                macs += 3L * counts[l][e] * perMatrix;
            }
        }
        long bytes = layers * EXPERTS * 3L * perMatrix * dtype.bytes();
        // Units: (layer, expert, matrix, 32-row chunk of gate/up or 64-row chunk of down).
        int[][] units = units(layers, counts, UNIT_ROWS, DOWN_ROWS);
        // With -DnewUnitRows/-DnewDownRows both arms run matmulRows: the old one in units of
        // unitRows/downRows, the new one in these (the work's sizes compared in one process).
        boolean sizes = Integer.getInteger("newUnitRows") != null || Integer.getInteger("newDownRows") != null;
        int[][] newUnits = sizes ? units(layers, counts, Integer.getInteger("newUnitRows", UNIT_ROWS),
                Integer.getInteger("newDownRows", DOWN_ROWS)) : units;
        Team team = new Team(threads);
        String[] names = {"old", "new"};
        double[][] ms = new double[2][rounds];
        for (int warm = 0; warm < 30; warm++) {
            run(team, warm % 2 == 0 ? units : newUnits, m, poolLayers, counts, x, !sizes && warm % 2 == 0);
        }
        for (int r = 0; r < rounds; r++) {
            for (int v = 0; v < 2; v++) {
                int reps = 5;
                long t0 = System.nanoTime();
                for (int k = 0; k < reps; k++) {
                    run(team, v == 0 ? units : newUnits, m, poolLayers, counts, x, !sizes && v == 0);
                }
                ms[v][r] = (System.nanoTime() - t0) / 1e6 / reps;
            }
        }
        for (int v = 0; v < 2; v++) {
            double best = Double.MAX_VALUE;
            double sum = 0;
            StringBuilder all = new StringBuilder();
            for (double d : ms[v]) {
                best = Math.min(best, d);
                sum += d;
                all.append(String.format(Locale.ROOT, " %.2f", d));
            }
            double mean = sum / rounds;
            System.out.printf(Locale.ROOT, "%s %s %s threads=%d: mean %.2f ms best %.2f ms per prefill's routed experts"
                            + " (%.1f GMAC/s, %.1f GB/s at best) rounds:%s%n", args[0], args[1], names[v], threads, mean, best,
                    macs / best / 1e6, bytes / best / 1e6, all);
        }
        team.close();
    }

    /** Random weights (sd 0.05) as f32, or as bf16 by truncation. */
    static void fillWeights(MemorySegment seg, DType dtype, long elements, Random rnd) {
        for (long i = 0; i < elements; i++) {
            float v = (float) (rnd.nextGaussian() * 0.05);
            if (dtype == DType.F32) {
                seg.set(Tensor.F32, i * 4, v);
            } else {
                seg.set(Tensor.I16, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
    }

    /** Rows of gate or up per unit of work (Forward's UNIT_ROWS; -DunitRows=N to try another). */
    static final int UNIT_ROWS = Integer.getInteger("unitRows", 32);

    /** Rows of down per unit of work (Forward's down chunks of a prefill; -DdownRows=N to try another). */
    static final int DOWN_ROWS = Integer.getInteger("downRows", 64);

    /** -Dmats=01 (gate and up only) or 2 (down only): which of an expert's matrices the units cover (default all). */
    static final String MATS = System.getProperty("mats", "012");

    static int[][] units(int layers, int[][] counts, int unitRows, int downRows) {
        java.util.List<int[]> out = new java.util.ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (int e = 0; e < EXPERTS; e++) {
                if (counts[l][e] == 0) {
                    continue;
                }
                for (int mat = 0; mat < 2; mat++) {
                    if (!MATS.contains(String.valueOf(mat))) {
                        continue;
                    }
                    for (int r = 0; r < INNER; r += unitRows) {
                        out.add(new int[] {l, e, mat, r, Math.min(INNER, r + unitRows)});
                    }
                }
                for (int r = 0; MATS.contains("2") && r < HIDDEN; r += downRows) {
                    out.add(new int[] {l, e, 2, r, Math.min(HIDDEN, r + downRows)});
                }
            }
        }
        return out.toArray(int[][]::new);
    }

    static void run(Team team, int[][] units, Matrix[][][] m, int poolLayers, int[][] counts, float[] x, boolean old) {
        AtomicInteger next = new AtomicInteger();
        team.run((member, size) -> {
            float[] out = OUT.get();
            for (int u; (u = next.getAndIncrement()) < units.length; ) {
                int[] unit = units[u];
                int c = counts[unit[0]][unit[1]];
                Matrix w = m[unit[0] % poolLayers][unit[1]][unit[2]];
                int cols = w.cols();
                if (old) {
                    oldRows(w, x, 0, c, cols, out, 0, w.rows(), unit[3], unit[4]);
                } else {
                    Kernels.matmulRows(w, x, 0, c, cols, out, 0, w.rows(), unit[3], unit[4]);
                }
            }
        });
    }

    private static final ThreadLocal<float[]> OUT = ThreadLocal.withInitial(() -> new float[TOKENS * HIDDEN]);

    /**
     * The few-token tiles as {@link Kernels#matmulRows} calls them now ({@link Tiles}), called directly: the
     * reference arm. A new kernel goes behind matmulRows (the other arm) and is compared with this one.
     */
    static void oldRows(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride, int from, int to) {
        if (n == 1) {
            Kernels.matvecRows(w, x, xOff, out, outOff, from, to);
            return;
        }
        var seg = w.tensor().data();
        int cols = w.cols();
        boolean bf16 = w.tensor().dtype() == DType.BF16;
        long rowBytes = cols * (long) w.tensor().dtype().bytes();
        float[] sums = SUMS.get();
        for (int r = from; r + 4 <= to; r += 4) {
            long at = w.rowStart(r) * w.tensor().dtype().bytes();
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                if (bf16) {
                    Tiles.bf16x4(seg, at, rowBytes, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, 1, sums);
                } else {
                    Tiles.f32x4(seg, at, rowBytes, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, 1, sums);
                }
            }
            if (t + 2 <= n) {
                if (bf16) {
                    Tiles.bf16x2(seg, at, rowBytes, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, 1, sums);
                } else {
                    Tiles.f32x2(seg, at, rowBytes, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride, 1, sums);
                }
                t += 2;
            }
            if (t < n) {
                if (bf16) {
                    Tiles.bf16x1(seg, at, rowBytes, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, 1, sums);
                } else {
                    Tiles.f32x1(seg, at, rowBytes, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, 1, sums);
                }
            }
        }
    }

    private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[Tiles.SUMS]);
}
