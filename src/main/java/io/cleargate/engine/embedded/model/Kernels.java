package io.cleargate.engine.embedded.model;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

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
        if (work < PARALLEL_THRESHOLD || POOL.getParallelism() < 2) {
            rows(w, x, xOff, out, outOff, 0, w.rows());
        } else {
            int grain = Math.max(1, (int) (PARALLEL_THRESHOLD / w.cols()));
            POOL.invoke(new RowTask(w, x, xOff, out, outOff, 0, w.rows(), grain));
        }
    }

    private static void rows(Matrix w, float[] x, int xOff, float[] out, int outOff, int from, int to) {
        for (int r = from; r < to; r++) {
            out[outOff + r] = dot(w.tensor(), w.rowStart(r), x, xOff, w.cols());
        }
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
        if (VECTOR && t.dtype() == DType.F32) {
            VectorKernels.axpyF32(t, start, a, out, outOff, n);
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

    private static final class RowTask extends RecursiveAction {
        private final Matrix w;
        private final float[] x;
        private final int xOff;
        private final float[] out;
        private final int outOff;
        private final int from;
        private final int to;
        private final int grain;

        RowTask(Matrix w, float[] x, int xOff, float[] out, int outOff, int from, int to, int grain) {
            this.w = w;
            this.x = x;
            this.xOff = xOff;
            this.out = out;
            this.outOff = outOff;
            this.from = from;
            this.to = to;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                rows(w, x, xOff, out, outOff, from, to);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new RowTask(w, x, xOff, out, outOff, from, mid, grain),
                    new RowTask(w, x, xOff, out, outOff, mid, to, grain));
        }
    }
}
