package io.cleargate.engine.embedded.model;

/**
 * The matrix-vector products that dominate inference. The row kernels ({@code ...Rows}) compute a
 * range of output rows so a {@link Team} can split a product by rows; each row's dot product uses the Vector API when the jdk.incubator.vector module
 * is present (it is added with {@code --add-modules=jdk.incubator.vector}) and the scalar loop
 * beside it otherwise. Accumulation is always in f32.
 */
public final class Kernels {

    /** Whether the Vector API path is used; false when the module is absent or -Dcleargate.engine.vector=false. */
    public static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("cleargate.engine.vector"));

    /** Members of the shared team (-Dcleargate.engine.threads, default all cores): for reports. */
    public static int threads() {
        return Team.shared().size();
    }

    private Kernels() {}

    /** {@code out[i] = W[i] . x} for every row i of W, on the shared team. */
    public static void matvec(Matrix w, float[] x, float[] out) {
        matvec(w, x, 0, out, 0);
    }

    /** {@code out[outOff + i] = W[i] . x[xOff ..]}, rows split across the shared team. */
    public static void matvec(Matrix w, float[] x, int xOff, float[] out, int outOff) {
        requireFits(w, x, xOff, 1, 0, out, outOff, 0);
        if ((long) w.rows() * w.cols() < SMALL) {
            matvecRows(w, x, xOff, out, outOff, 0, w.rows());
            return;
        }
        Team.shared().run((m, size) -> matvecRows(w, x, xOff, out, outOff,
                Team.start(w.rows(), m, size, 2), Team.start(w.rows(), m + 1, size, 2)));
    }

    /** Below this many multiply-adds a product runs on the calling thread: waking the team costs more. */
    private static final long SMALL = 1 << 14;

    /**
     * Matrix-matrix product for a batch of {@code n} tokens on the shared team:
     * {@code out[t * outStride + r] = W[r] . x[t * xStride ..]}.
     */
    public static void matmul(Matrix w, float[] x, int n, int xStride, float[] out, int outStride) {
        requireFits(w, x, 0, n, xStride, out, 0, outStride);
        Team.shared().run((m, size) -> matmulRows(w, x, 0, n, xStride, out, 0, outStride,
                Team.start(w.rows(), m, size, 2), Team.start(w.rows(), m + 1, size, 2)));
    }

    static void requireFits(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride) {
        if (x.length < xOff + (long) (n - 1) * xStride + w.cols() || out.length < outOff + (long) (n - 1) * outStride + w.rows()) {
            throw new IllegalArgumentException("product with " + w.describe() + ": a batch of " + n + " does not fit the buffers "
                    + x.length + "/" + out.length);
        }
    }

    /**
     * How a decoded token's products read their rows. {@link #FOUR} at a time (one FMA chain a row,
     * one load of x for four): on the Xeons of speed.md 50 and 58 (Intel, L2 streamer that stops at 4 KB
     * pages) f32 decode 1.35-1.49x one row at a time. {@link #ONE} at a time with aligned f32 loads (bf16:
     * one row, four chains): on the AMD EPYCs (Zen 4) of speed.md 38 and 61, where four interleaved
     * streams read 2-2.4x slower than one in a single thread, f32 decode 1.33-1.55x and bf16 1.28-1.67x
     * four rows at a time in every round of one A/B job (speed.md 61). Chosen by the CPU's vendor, since the two hosts differ in their
     * prefetchers, not in anything a VM reports of its caches (speed.md 58); {@code
     * -Dcleargate.engine.decodeRows=one|four} overrides. Either way a row's sum does not depend on how
     * the team splits the rows.
     */
    enum DecodeRows {
        ONE, FOUR;

        /** The choice for {@code property} (may be null) on a CPU of {@code vendor} (/proc/cpuinfo's vendor_id, may be null). */
        static DecodeRows of(String property, String vendor) {
            if (property != null) {
                return switch (property) {
                    case "one" -> ONE;
                    case "four" -> FOUR;
                    default -> throw new IllegalArgumentException(
                            "cleargate.engine.decodeRows must be one or four, not " + property);
                };
            }
            return "AuthenticAMD".equals(vendor) ? ONE : FOUR;
        }

        /** This CPU's vendor from /proc/cpuinfo, or null where there is none (not Linux, unreadable). */
        static String cpuVendor() {
            try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                return lines.filter(l -> l.startsWith("vendor_id")).findFirst()
                        .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(null);
            } catch (java.io.IOException | SecurityException | java.io.UncheckedIOException e) {
                return null;
            }
        }
    }

    /** How this process's decode reads rows (see {@link DecodeRows}). */
    static final DecodeRows DECODE_ROWS = DecodeRows.of(System.getProperty("cleargate.engine.decodeRows"), DecodeRows.cpuVendor());

    /** Rows {@code from .. to} of {@code W x} for one token. */
    static void matvecRows(Matrix w, float[] x, int xOff, float[] out, int outOff, int from, int to) {
        matvecRows(w, x, xOff, out, outOff, from, to, DECODE_ROWS);
    }

    /** {@link #matvecRows} with the rows read as {@code rows} says (tests cover both ways on any CPU). */
    static void matvecRows(Matrix w, float[] x, int xOff, float[] out, int outOff, int from, int to, DecodeRows rows) {
        if (VECTOR && w.scale() == null && w.tensor().dtype() == DType.BF16 && from < to) {
            // x is rearranged once for all rows (see VectorKernels.pairBf16), into a buffer of
            // this thread's: a new array per call was ~4 MB of allocation per decoded token (every
            // chunk of every product pairs its input), written and later collected.
            float[] paired = VectorKernels.pairBf16(x, xOff, w.cols(), pairedScratch(w.cols()));
            if (rows == DecodeRows.ONE) {
                for (int r = from; r < to; r++) {
                    out[outOff + r] = VectorKernels.dotBf16Paired(w.tensor(), w.rowStart(r), paired, x, xOff, w.cols());
                }
            } else {
                matvecRowsBf16(w, paired, x, xOff, out, outOff, from, to);
            }
            return;
        }
        if (VECTOR && w.scale() == null && w.tensor().dtype() == DType.F32) {
            if (rows == DecodeRows.ONE) {
                var seg = w.tensor().data();
                for (int r = from; r < to; r++) {
                    out[outOff + r] = VectorKernels.dotF32Aligned(seg, w.rowStart(r) * 4L, x, xOff, w.cols());
                }
            } else {
                matvecRowsF32(w, x, xOff, out, outOff, from, to);
            }
            return;
        }
        for (int r = from; r < to; r++) {
            out[outOff + r] = dotRow(w, r, x, xOff);
        }
    }

    /**
     * {@link #matvecRows} for f32 weights: four rows at a time, one FMA chain each and one load of x
     * for all four (the prefill's one-token tile, {@link Tiles#f32x1}). On the Xeon of stop 35 (2 MB L2 a
     * core, 480 MB L3) one thread streamed 1024-column rows 8 bytes past a line at 14.2-14.4 GB/s four at
     * a time against 10.6-11.1 one at a time with aligned loads (the kernel engine12 picked on the EPYC
     * with a 32 MB L3, where four interleaved streams read slower than one: speed.md 38); two threads,
     * f32 decode 1.35-1.49x in every round of one A/B job (speed.md 50). A share's last one to three rows go
     * through the same kernel with the row repeated (the copies come from L1), so every row is summed
     * by the same steps and a row's result does not depend on the split.
     */
    private static void matvecRowsF32(Matrix w, float[] x, int xOff, float[] out, int outOff, int from, int to) {
        var seg = w.tensor().data();
        int cols = w.cols();

        long rowBytes = cols * 4L;
        float[] sums = TILE_SUMS.get();
        int r = from;
        for (; r + 4 <= to; r += 4) {
            Tiles.f32x1(seg, w.rowStart(r) * 4L, rowBytes, x, xOff, cols, out, outOff + r, sums);
        }
        float[] four = FOUR.get();
        for (; r < to; r++) {
            Tiles.f32x1(seg, w.rowStart(r) * 4L, 0, x, xOff, cols, four, 0, sums);
            out[outOff + r] = four[0];
        }
    }

    /** This thread's four sums of a four-row decode kernel. */
    private static final ThreadLocal<float[]> FOUR = ThreadLocal.withInitial(() -> new float[4]);

    /**
     * bf16 rows {@code from .. to} of {@code W x}, with x already paired: four rows at a time, as
     * {@link #matvecRowsF32} for the same reason ({@link VectorKernels#dotBf16Rows4}; one A/B job on this
     * stop's Xeon, bf16 decode / llama.cpp 0.84-0.95 one row at a time against 0.97-1.07 four at a time:
     * speed.md 50). The EPYC of speed.md 38 had read four short rows at a time slower than one.
     */
    private static void matvecRowsBf16(Matrix w, float[] paired, float[] x, int xOff, float[] out, int outOff, int from, int to) {
        var seg = w.tensor().data();
        int cols = w.cols();

        long rowBytes = cols * 2L;
        float[] four = FOUR.get();
        int r = from;
        for (; r + 4 <= to; r += 4) {
            VectorKernels.dotBf16Rows4(seg, w.rowStart(r) * 2L, rowBytes, paired, x, xOff, cols, four);
            System.arraycopy(four, 0, out, outOff + r, 4);
        }
        for (; r < to; r++) {
            VectorKernels.dotBf16Rows4(seg, w.rowStart(r) * 2L, 0, paired, x, xOff, cols, four);
            out[outOff + r] = four[0];
        }
    }

    /** This thread's scratch for a register tile's sums ({@link Tiles}): fetched once per product, not per tile. */
    private static final ThreadLocal<float[]> TILE_SUMS = ThreadLocal.withInitial(() -> new float[Tiles.SUMS]);

    private static final ThreadLocal<float[][]> PAIRED = ThreadLocal.withInitial(() -> new float[1][0]);

    /** This thread's buffer for paired bf16 activations, at least {@code n} long (reused by the next call on the thread). */
    private static float[] pairedScratch(int n) {
        return scratch(PAIRED, n);
    }

    private static final ThreadLocal<float[][]> DECODED = ThreadLocal.withInitial(() -> new float[1][0]);

    /** This thread's scratch for four decoded weight rows, at least {@code n} long (a batch product allocated them per call). */
    private static float[] rowScratch(int n) {
        return scratch(DECODED, n);
    }

    private static float[] scratch(ThreadLocal<float[][]> perThread, int n) {
        float[][] holder = perThread.get();
        if (holder[0].length < n) {
            holder[0] = new float[n];
        }
        return holder[0];
    }

    /**
     * Rows {@code from .. to} of the batch product: {@code out[outOff + t * outStride + r] = W[r] . x[xOff + t * xStride ..]}
     * for t below n. Each weight row is read (and for bf16/FP8 decoded) once into an f32 buffer and then
     * used by every token, so the weights cross the memory bus once per batch, not once per token.
     * A row's result does not depend on {@code from}/{@code to}: the team may split rows any way.
     */
    static void matmulRows(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride,
                           int from, int to) {
        if (n == 1) {
            matvecRows(w, x, xOff, out, outOff, from, to);
            return;
        }
        int cols = w.cols();
        if (VECTOR && w.scale() == null && w.tensor().dtype() == DType.F32 && n < COPY_ROWS_FROM_TOKENS) {
            matmulRowsF32(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        if (VECTOR && w.scale() == null && w.tensor().dtype() == DType.BF16 && n < COPY_ROWS_FROM_TOKENS) {
            matmulRowsBf16(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        if (VECTOR && PANELS && n >= COPY_ROWS_FROM_TOKENS) {
            Panels.matmulRows(w, x, xOff, n, xStride, out, outOff, outStride, from, to);
            return;
        }
        float[] block = rowScratch(4 * cols);
        float[] row = new float[cols];
        float[] next = new float[cols];
        int r = from;
        if (VECTOR && n >= 4) {
            // Four weight rows (decoded one after the other into one block) against four tokens at a
            // time: each loaded vector feeds four FMAs (with two rows, the activation loads held the
            // prefill kernels well below the FMA rate).
            float[] sums = TILE_SUMS.get();
            for (; r + 4 <= to; r += 4) {
                for (int k = 0; k < 4; k++) {
                    decodeRow(w, r + k, block, k * cols);
                }
                int t = 0;
                for (; t + 4 <= n; t += 4) {
                    Tiles.arrays4x4(block, 0, cols, x, xOff + t * xStride, xStride, cols, out,
                            outOff + t * outStride + r, outStride, sums);
                }
                if (t + 2 <= n) {
                    Tiles.arrays4x2(block, 0, cols, x, xOff + t * xStride, xStride, cols, out,
                            outOff + t * outStride + r, outStride, sums);
                    t += 2;
                }
                if (t < n) {
                    Tiles.arrays4x1(block, 0, cols, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, 1, sums);
                }
            }
        }
        // Two weight rows against four tokens at a time: each activation vector loaded from cache
        // feeds two FMAs.
        for (; r + 2 <= to; r += 2) {
            decodeRow(w, r, row);
            decodeRow(w, r + 1, next);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                dot2x4(row, next, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride);
            }
            for (; t < n; t++) {
                out[outOff + t * outStride + r] = dot(row, 0, x, xOff + t * xStride, cols);
                out[outOff + t * outStride + r + 1] = dot(next, 0, x, xOff + t * xStride, cols);
            }
        }
        for (; r < to; r++) {
            decodeRow(w, r, row);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                dot4(row, x, xOff + t * xStride, xStride, cols, out, outOff + t * outStride + r, outStride);
            }
            for (; t < n; t++) {
                out[outOff + t * outStride + r] = dot(row, 0, x, xOff + t * xStride, cols);
            }
        }
    }

    /**
     * From this many tokens on, weight rows of every dtype are decoded (f32: copied) into arrays and
     * transposed into {@link Panels} (before those, into blocks for the 4×4 kernel, which ran faster on
     * arrays than on the mapped segment: in a microbenchmark of 256 rows × 1024, ~14% at 48 tokens, ~4%
     * at 24, even at 12); the decoding is paid once for all tokens. Below, f32 and bf16 rows are read in
     * place (routed experts see about four tokens of a 64-token prompt; for them a copy cost more than it saved).
     */
    static final int COPY_ROWS_FROM_TOKENS = 16;

    /** Batches of {@link #COPY_ROWS_FROM_TOKENS} tokens and more go through {@link Panels} (off, for the kernel bench: the 4x4 dot tiles). */
    static final boolean PANELS = !Boolean.getBoolean("cleargate.engine.dotTiles");

    /**
     * {@link #matmulRows} for f32 weights, read in place: four rows against four tokens at a time,
     * then the same four rows against the two and one tokens left over, then the rows left over one
     * by one; every (row, token) is summed as {@link #dot} does. A tile's four rows are a quarter of
     * the range apart (rows g, g + q, g + 2q, g + 3q), so that the tiles read the range as four long
     * sequential streams, each tile continuing where the one before ended: with four adjacent rows,
     * each tile jumped to new memory and the prefetcher followed short streams (two bf16 rows share
     * a 4 KB page). On the Xeon of speed.md 49 ({@code ExpertTileBench}, one thread, weights from
     * memory) the routed experts took ~24% less time in bf16 and 6-12% less in f32 (speed.md 51).
     */
    private static void matmulRowsF32(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff,
                                      int outStride, int from, int to) {
        var seg = w.tensor().data();
        int cols = w.cols();
        long rowBytes = cols * 4L;
        float[] sums = TILE_SUMS.get();
        int spread = (to - from) / 4; // a tile's rows are this many rows apart: four long streams
        long step = spread * rowBytes;
        for (int g = 0; g < spread; g++) {
            int r = from + g;
            long at = w.rowStart(r) * 4L;
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                Tiles.f32x4(seg, at, step, x, xOff + t * xStride, xStride, cols, out,
                        outOff + t * outStride + r, outStride, spread, sums);
            }
            // The tokens left over, two and one at a time with the same four rows (not one row and
            // one token at a time: with ~4 tokens per routed expert, these were most of its time).
            if (t + 2 <= n) {
                Tiles.f32x2(seg, at, step, x, xOff + t * xStride, xStride, cols, out,
                        outOff + t * outStride + r, outStride, spread, sums);
                t += 2;
            }
            if (t < n) {
                Tiles.f32x1(seg, at, step, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, spread, sums);
            }
        }
        for (int r = from + 4 * spread; r < to; r++) {
            long at = w.rowStart(r) * 4L;
            for (int t = 0; t < n; t++) {
                out[outOff + t * outStride + r] = VectorKernels.dotF32Single(seg, at, x, xOff + t * xStride, cols);
            }
        }
    }

    /**
     * {@link #matmulRowsF32} for bf16 weights: the rows are widened in registers where they are mapped
     * instead of into arrays first, and every (row, token) gets the sum the widened row would give
     * ({@link Tiles#bf16x4}).
     */
    private static void matmulRowsBf16(Matrix w, float[] x, int xOff, int n, int xStride, float[] out, int outOff,
                                       int outStride, int from, int to) {
        var seg = w.tensor().data();
        int cols = w.cols();
        long rowBytes = cols * 2L;
        float[] sums = TILE_SUMS.get();
        int spread = (to - from) / 4; // a tile's rows are this many rows apart: four long streams
        long step = spread * rowBytes;
        for (int g = 0; g < spread; g++) {
            int r = from + g;
            long at = w.rowStart(r) * 2L;
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                Tiles.bf16x4(seg, at, step, x, xOff + t * xStride, xStride, cols, out,
                        outOff + t * outStride + r, outStride, spread, sums);
            }
            // The tokens left over, two and one at a time with the same four rows (not one row and
            // one token at a time: with ~4 tokens per routed expert, these were most of its time).
            if (t + 2 <= n) {
                Tiles.bf16x2(seg, at, step, x, xOff + t * xStride, xStride, cols, out,
                        outOff + t * outStride + r, outStride, spread, sums);
                t += 2;
            }
            if (t < n) {
                Tiles.bf16x1(seg, at, step, x, xOff + t * xStride, cols, out, outOff + t * outStride + r, spread, sums);
            }
        }
        for (int r = from + 4 * spread; r < to; r++) {
            long at = w.rowStart(r) * 2L;
            for (int t = 0; t < n; t++) {
                out[outOff + t * outStride + r] = VectorKernels.dotBf16Single(seg, at, x, xOff + t * xStride, cols);
            }
        }
    }

    /** {@link #dot4} for two adjacent weight rows: results for the second row go one column to the right. */
    static void dot2x4(float[] row0, float[] row1, float[] x, int xOff, int xStride, int n, float[] out, int outOff,
                       int outStride) {
        if (VECTOR) {
            VectorKernels.dot2x4(row0, row1, x, xOff, xStride, n, out, outOff, outStride);
            return;
        }
        dot4(row0, x, xOff, xStride, n, out, outOff, outStride);
        dot4(row1, x, xOff, xStride, n, out, outOff + 1, outStride);
    }

    /** Row {@code r} of W as f32 values, block scales applied. */
    public static void decodeRow(Matrix w, int r, float[] out) {
        decodeRow(w, r, out, 0);
    }

    /** {@link #decodeRow} into {@code out[outOff ..]}. */
    static void decodeRow(Matrix w, int r, float[] out, int outOff) {
        Tensor t = w.tensor();
        long start = w.rowStart(r);
        int cols = w.cols();
        if (w.scale() != null) {
            int blockCols = w.scale().blockCols();
            for (int b = 0, c0 = 0; c0 < cols; b++, c0 += blockCols) {
                int n = Math.min(blockCols, cols - c0);
                float scale = w.blockScale(r, b);
                if (VECTOR) {
                    VectorKernels.decodeFp8(t, start + c0, scale, out, outOff + c0, n);
                } else {
                    for (int i = 0; i < n; i++) {
                        out[outOff + c0 + i] = t.get(start + c0 + i) * scale;
                    }
                }
            }
            return;
        }
        if (t.dtype() == DType.F32) {
            java.lang.foreign.MemorySegment.copy(t.data(), Tensor.F32, start * 4, out, outOff, cols);
        } else if (VECTOR && t.dtype() == DType.BF16) {
            VectorKernels.decodeBf16(t, start, out, outOff, cols);
        } else {
            t.read(start, cols, out, outOff);
        }
    }

    /** Four dot products of one row with x at {@code xOff, xOff + xStride, ...}, written {@code outStride} apart. */
    static void dot4(float[] row, float[] x, int xOff, int xStride, int n, float[] out, int outOff, int outStride) {
        if (VECTOR) {
            VectorKernels.dot4(row, x, xOff, xStride, n, out, outOff, outStride);
            return;
        }
        for (int k = 0; k < 4; k++) {
            out[outOff + k * outStride] = scalarDot(row, 0, x, xOff + k * xStride, n);
        }
    }

    /** Row {@code r} of W dotted with {@code x[xOff ..]}; FP8 rows apply each block's scale. */
    public static float dotRow(Matrix w, int r, float[] x, int xOff) {
        if (w.scale() == null) {
            return dot(w.tensor(), w.rowStart(r), x, xOff, w.cols());
        }
        Tensor t = w.tensor();
        long start = w.rowStart(r);
        int cols = w.cols();
        int blockCols = w.scale().blockCols();
        float sum = 0f;
        for (int b = 0, c0 = 0; c0 < cols; b++, c0 += blockCols) {
            int n = Math.min(blockCols, cols - c0);
            float block = VECTOR ? VectorKernels.dotFp8(t, start + c0, x, xOff + c0, n) : scalarDot(t, start + c0, x, xOff + c0, n);
            sum += block * w.blockScale(r, b);
        }
        return sum;
    }

    /** Dot product of {@code n} tensor elements from flat index {@code start} with {@code x[xOff ..]}. */
    public static float dot(Tensor t, long start, float[] x, int xOff, int n) {
        return VECTOR ? VectorKernels.dot(t, start, x, xOff, n) : scalarDot(t, start, x, xOff, n);
    }

    static float scalarDot(Tensor t, long start, float[] x, int xOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += t.get(start + i) * x[xOff + i];
        }
        return sum;
    }

    /** {@code out[c] += a * W[row][c]} for one row (used for transposed products such as q . W_UK). */
    public static void axpyRow(Matrix w, int row, float a, float[] out, int outOff) {
        Tensor t = w.tensor();
        long start = w.rowStart(row);
        int n = w.cols();
        if (w.scale() != null) {
            int blockCols = w.scale().blockCols();
            for (int b = 0, c0 = 0; c0 < n; b++, c0 += blockCols) {
                axpyFp8(t, start + c0, a * w.blockScale(row, b), out, outOff + c0, Math.min(blockCols, n - c0));
            }
            return;
        }
        if (VECTOR && t.dtype() == DType.F32) {
            VectorKernels.axpyF32(t, start, a, out, outOff, n);
            return;
        }
        if (VECTOR && t.dtype() == DType.BF16) {
            VectorKernels.axpyBf16(t, start, a, out, outOff, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            out[outOff + i] += a * t.get(start + i);
        }
    }

    private static void axpyFp8(Tensor t, long start, float a, float[] out, int outOff, int n) {
        if (VECTOR) {
            VectorKernels.axpyFp8(t, start, a, out, outOff, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            out[outOff + i] += a * t.get(start + i);
        }
    }

    /** Dot product of two float arrays. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return VECTOR ? VectorKernels.dot(a, aOff, b, bOff, n) : scalarDot(a, aOff, b, bOff, n);
    }

    static float scalarDot(float[] a, int aOff, float[] b, int bOff, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code out[outOff ..] += a * x[xOff ..]}. */
    public static void axpy(float a, float[] x, int xOff, float[] out, int outOff, int n) {
        if (VECTOR) {
            VectorKernels.axpy(a, x, xOff, out, outOff, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            out[outOff + i] += a * x[xOff + i];
        }
    }

    // ---- Attention over the latent cache ---------------------------------------------------

    /**
     * Causal scores of a batch: {@code p[t * keys + u] = query[t] . cache[u]} (rows {@code width} wide)
     * for every token t of {@code n} and every key {@code u <= keys - n + t}; entries past a token's
     * own position are left unspecified (the caller masks them). Four keys against four tokens at a
     * time, then four keys against one token; every score is summed as {@link #dot} sums.
     */
    static void causalScores(float[] query, int n, int width, float[] cache, int keys, float[] p) {
        int t = 0;
        float[] sums = VECTOR ? TILE_SUMS.get() : null;
        if (VECTOR) {
            for (; t + 4 <= n; t += 4) {
                int limit = keys - n + t + 4; // keys the tile's last token sees
                int u = 0;
                for (; u + 4 <= limit; u += 4) {
                    Tiles.arrays4x4(cache, u * width, width, query, t * width, width, width, p, t * keys + u, keys, sums);
                }
                for (; u < limit; u++) {
                    Tiles.arrays4x1(query, t * width, width, cache, u * width, width, p, t * keys + u, keys, sums);
                }
            }
        }
        for (; t < n; t++) {
            int limit = keys - n + t + 1;
            int u = 0;
            if (VECTOR) {
                for (; u + 4 <= limit; u += 4) {
                    Tiles.arrays4x1(cache, u * width, width, query, t * width, width, p, t * keys + u, 1, sums);
                }
            }
            for (; u < limit; u++) {
                p[t * keys + u] = dot(query, t * width, cache, u * width, width);
            }
        }
    }

    /**
     * {@code out[t][j] = sum over k of a[t][k] * b[k][j]} ({@code rows} x {@code depth} times {@code depth} x
     * {@code cols}, row-major with the given strides); with {@code causal}, row t sums only
     * {@code k <= depth - rows + t}, and its entries of {@code a} past that must be zero (tiles of
     * rows may run to their last row's limit). Sums in order of k with fused multiply-adds in every path.
     */
    static void gemm(float[] a, int aOff, int aStride, int rows, int depth, boolean causal,
                     float[] b, int bOff, int bStride, int cols, float[] out, int outOff, int outStride) {
        if (VECTOR) {
            VectorKernels.gemm(a, aOff, aStride, rows, depth, causal, b, bOff, bStride, cols, out, outOff, outStride);
            return;
        }
        for (int t = 0; t < rows; t++) {
            int kEnd = causal ? depth - rows + t + 1 : depth;
            for (int j = 0; j < cols; j++) {
                float c = 0f;
                for (int k = 0; k < kEnd; k++) {
                    c = Math.fma(b[bOff + k * bStride + j], a[aOff + t * aStride + k], c);
                }
                out[outOff + t * outStride + j] = c;
            }
        }
    }

    /** {@code gate[i] = silu(gate[i]) * up[i]} for i in {@code from .. to} (SwiGLU). */
    static void siluTimes(float[] gate, float[] up, int from, int to) {
        if (VECTOR) {
            Activations.siluTimes(gate, up, from, to);
            return;
        }
        for (int i = from; i < to; i++) {
            float z = gate[i];
            gate[i] = z / (1f + (float) Math.exp(-z)) * up[i];
        }
    }

    /** Softmax of {@code x[off .. off + n]} in place. */
    static void softmax(float[] x, int off, int n) {
        if (VECTOR) {
            VectorKernels.softmax(x, off, n);
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        float scale = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= scale;
        }
    }
}
