package io.cleargate.engine.embedded.model;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The matrix-vector products that dominate inference. Work is split by rows across the
 * fork-join pool; each row's dot product uses the Vector API when the jdk.incubator.vector module
 * is present (it is added with {@code --add-modules=jdk.incubator.vector}) and the scalar loop
 * beside it otherwise. Accumulation is always in f32.
 */
public final class Kernels {

    /** Whether the Vector API path is used; false when the module is absent or -Dcleargate.engine.vector=false. */
    public static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("cleargate.engine.vector"));

    /** Below this many multiply-adds a product runs on the calling thread: forking costs more. */
    private static final long PARALLEL_THRESHOLD = 1 << 16;
    /** Threads for matrix work: all cores unless -Dcleargate.engine.threads says otherwise. */
    public static final int THREADS = Integer.getInteger("cleargate.engine.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS), pool -> {
        var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setDaemon(true);
        thread.setName("cleargate-engine-" + thread.getPoolIndex());
        return thread;
    }, null, false);

    private Kernels() {}

    /** {@code out[i] = W[i] . x} for every row i of W. */
    public static void matvec(Matrix w, float[] x, float[] out) {
        matvec(w, x, 0, out, 0);
    }

    /** {@code out[outOff + i] = W[i] . x[xOff ..]}. */
    public static void matvec(Matrix w, float[] x, int xOff, float[] out, int outOff) {
        if (x.length - xOff < w.cols() || out.length - outOff < w.rows()) {
            throw new IllegalArgumentException("matvec " + w.describe() + ": vector sizes " + x.length + "/" + out.length);
        }
        long work = (long) w.rows() * w.cols();
        int grain = Math.max(1, (int) (PARALLEL_THRESHOLD / w.cols()));
        parallelRanges(w.rows(), work, grain, (from, to) -> rows(w, x, xOff, out, outOff, from, to));
    }

    /**
     * Matrix-matrix product for a batch of {@code n} tokens: {@code out[t * outStride + r] = W[r] . x[t * xStride ..]}.
     * Each weight row is read (and for bf16/FP8 decoded) once into an f32 buffer and then used by
     * every token, four at a time, so the weights cross the memory bus once per batch, not once per token.
     */
    public static void matmul(Matrix w, float[] x, int n, int xStride, float[] out, int outStride) {
        if (n == 1) {
            matvec(w, x, 0, out, 0);
            return;
        }
        if (x.length < (long) (n - 1) * xStride + w.cols() || out.length < (long) (n - 1) * outStride + w.rows()) {
            throw new IllegalArgumentException("matmul " + w.describe() + ": batch of " + n + " does not fit the buffers");
        }
        long work = (long) w.rows() * w.cols() * n;
        int grain = Math.max(1, (int) (PARALLEL_THRESHOLD / ((long) w.cols() * n)));
        parallelRanges(w.rows(), work, grain, (from, to) -> {
            float[] row = new float[w.cols()];
            for (int r = from; r < to; r++) {
                decodeRow(w, r, row);
                int t = 0;
                for (; t + 4 <= n; t += 4) {
                    dot4(row, x, t * xStride, xStride, w.cols(), out, t * outStride + r, outStride);
                }
                for (; t < n; t++) {
                    out[t * outStride + r] = dot(row, 0, x, t * xStride, w.cols());
                }
            }
        });
    }

    /** Row {@code r} of W as f32 values, block scales applied. */
    public static void decodeRow(Matrix w, int r, float[] out) {
        Tensor t = w.tensor();
        long start = w.rowStart(r);
        int cols = w.cols();
        if (w.scale() != null) {
            int blockCols = w.scale().blockCols();
            for (int b = 0, c0 = 0; c0 < cols; b++, c0 += blockCols) {
                int n = Math.min(blockCols, cols - c0);
                float scale = w.blockScale(r, b);
                if (VECTOR) {
                    VectorKernels.decodeFp8(t, start + c0, scale, out, c0, n);
                } else {
                    for (int i = 0; i < n; i++) {
                        out[c0 + i] = t.get(start + c0 + i) * scale;
                    }
                }
            }
            return;
        }
        if (t.dtype() == DType.F32) {
            java.lang.foreign.MemorySegment.copy(t.data(), Tensor.F32, start * 4, out, 0, cols);
        } else if (VECTOR && t.dtype() == DType.BF16) {
            VectorKernels.decodeBf16(t, start, out, cols);
        } else {
            t.read(start, cols, out);
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

    /** A range body for {@link #parallelRanges}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over {@code 0 .. count} split into ranges of at least {@code grain} items on
     * the engine's pool, or on the calling thread when the whole job is small ({@code work}
     * multiply-adds below the threshold) or there is one thread.
     */
    public static void parallelRanges(int count, long work, int grain, RangeBody body) {
        if (count <= 0) {
            return;
        }
        if (work < PARALLEL_THRESHOLD || POOL.getParallelism() < 2 || count <= grain) {
            body.run(0, count);
            return;
        }
        if (Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread worker && worker.getPool() == POOL) {
            new RangeTask(body, 0, count, Math.max(1, grain)).invoke();
        } else {
            POOL.invoke(new RangeTask(body, 0, count, Math.max(1, grain)));
        }
    }

    /** {@code body.accept(i)} for every i below count, items in parallel when their total work is large enough. */
    public static void parallelFor(int count, long workPerItem, IntConsumer body) {
        parallelRanges(count, workPerItem * count, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                body.accept(i);
            }
        });
    }

    private static final class RangeTask extends RecursiveAction {
        private final RangeBody body;
        private final int from;
        private final int to;
        private final int grain;

        RangeTask(RangeBody body, int from, int to, int grain) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                body.run(from, to);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new RangeTask(body, from, mid, grain), new RangeTask(body, mid, to, grain));
        }
    }

    private static void rows(Matrix w, float[] x, int xOff, float[] out, int outOff, int from, int to) {
        for (int r = from; r < to; r++) {
            out[outOff + r] = dotRow(w, r, x, xOff);
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
}
