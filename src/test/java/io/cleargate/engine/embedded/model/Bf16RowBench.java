package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Not a test: bytes per second of bf16 decode kernels over 1024-column rows streamed from memory (a
 * buffer larger than L3), on one thread and on two (each its half), alternating the kernels so the
 * machine's drift spreads over all of them. The engine's kernel until engine17 ({@link VectorKernels#dotBf16Paired}) and a
 * copy of main's as it was in engine9's job, against candidates and two references (the same bytes as int
 * vectors only added, {@link VectorKernels#sumF32}). Results: speed.md section 26.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.Bf16RowBench [MB] [rounds]</pre>
 */
public final class Bf16RowBench {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.vectorShape().withLanes(int.class);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int COLS = 1024;
    private static final String[] NAMES = {"engine's kernel", "paired8", "tworows", "widened (dot)", "int loads only", "sumF32", "paired4 f-loads", "paired4 (main)"};

    public static void main(String[] args) throws Exception {
        long bytes = Long.parseLong(args.length > 0 ? args[0] : "768") << 20;
        int rounds = Integer.parseInt(args.length > 1 ? args[1] : "5");
        MemorySegment seg = Arena.global().allocate(bytes, 64);
        for (long i = 0; i < bytes; i += 2) {
            seg.set(Tensor.I16, i, (short) (0x3f80 + (i & 7)));
        }
        Tensor t = new Tensor("w", DType.BF16, new long[] {bytes / 2}, seg);
        float[] x = new float[COLS];
        for (int i = 0; i < COLS; i++) {
            x[i] = 1e-3f * i;
        }
        float[] paired = VectorKernels.pairBf16(x, 0, COLS, new float[COLS]);
        int rows = (int) (bytes / (COLS * 2L));
        double[][] gbs = new double[2][NAMES.length];
        for (int round = 0; round <= rounds; round++) { // round 0 warms up
            for (int threads = 1; threads <= 2; threads++) {
                for (int k = 0; k < NAMES.length; k++) {
                    double rate = run(k, threads, t, seg, paired, x, rows, bytes);
                    if (round > 0) {
                        gbs[threads - 1][k] += rate / rounds;
                    }
                }
            }
        }
        System.out.printf("bf16 rows of %d columns, %d MB, mean of %d rounds, GB/s%n", COLS, bytes >> 20, rounds);
        for (int k = 0; k < NAMES.length; k++) {
            System.out.printf("%-18s 1 thread %5.1f   2 threads %5.1f%n", NAMES[k], gbs[0][k], gbs[1][k]);
        }
    }

    private static double run(int k, int threads, Tensor t, MemorySegment seg, float[] p, float[] x, int rows, long bytes)
            throws Exception {
        float[] sink = new float[threads];
        CyclicBarrier start = new CyclicBarrier(threads);
        Thread[] team = new Thread[threads];
        long[] t0 = new long[1];
        for (int m = 0; m < threads; m++) {
            int member = m;
            team[m] = Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                if (member == 0) {
                    t0[0] = System.nanoTime();
                }
                int from = rows / threads * member;
                int to = member == threads - 1 ? rows : rows / threads * (member + 1);
                float s = 0;
                for (int r = from; r < to; r++) {
                    long at = (long) r * COLS * 2;
                    s += switch (k) {
                        case 0 -> VectorKernels.dotBf16Paired(t, (long) r * COLS, p, x, 0, COLS);
                        case 1 -> paired8(seg, at, p, COLS);
                        case 2 -> r + 1 < to ? twoRows(seg, at, p, COLS, sink, member) : 0;
                        case 3 -> VectorKernels.dot(t, (long) r * COLS, x, 0, COLS);
                        case 4 -> intLoads(seg, at, COLS);
                        case 5 -> VectorKernels.sumF32(seg, at, COLS / 2);
                        case 6 -> pairedFloatLoads(seg, at, p, COLS);
                        default -> paired4(seg, at, p, COLS);
                    };
                    if (k == 2) {
                        r++;
                    }
                }
                sink[member] += s;
            });
        }
        for (Thread th : team) {
            th.join();
        }
        double seconds = (System.nanoTime() - t0[0]) / 1e9;
        if (Float.isNaN(sink[0])) {
            throw new IllegalStateException();
        }
        return bytes / seconds / 1e9;
    }

    /** The engine's paired kernel with eight accumulators and four int loads per step. */
    static float paired8(MemorySegment seg, long base, float[] p, int n) {
        int len = F.length();
        int block = 2 * len;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        for (int i = 0; i + 4 * block <= n; i += 4 * block) {
            IntVector v = IntVector.fromMemorySegment(I, seg, base + i * 2L, LE);
            IntVector u = IntVector.fromMemorySegment(I, seg, base + (i + block) * 2L, LE);
            IntVector w = IntVector.fromMemorySegment(I, seg, base + (i + 2 * block) * 2L, LE);
            IntVector z = IntVector.fromMemorySegment(I, seg, base + (i + 3 * block) * 2L, LE);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + len), a1);
            a2 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + block), a2);
            a3 = u.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + block + len), a3);
            b0 = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + 2 * block), b0);
            b1 = w.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + 2 * block + len), b1);
            b2 = z.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + 3 * block), b2);
            b3 = z.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + 3 * block + len), b3);
        }
        return a0.add(a1).add(a2.add(a3)).add(b0.add(b1).add(b2.add(b3))).reduceLanes(VectorOperators.ADD);
    }

    /** main's dotBf16Paired loop (93332ca): two int loads and four accumulators per step. */
    static float paired4(MemorySegment seg, long base, float[] p, int n) {
        int len = F.length();
        int block = 2 * len;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int i = 0; i + 2 * block <= n; i += 2 * block) {
            IntVector v = IntVector.fromMemorySegment(I, seg, base + i * 2L, LE);
            IntVector u = IntVector.fromMemorySegment(I, seg, base + (i + block) * 2L, LE);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + len), a1);
            a2 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + block), a2);
            a3 = u.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + block + len), a3);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** The engine's paired kernel with the weights loaded as float vectors and reinterpreted as ints. */
    static float pairedFloatLoads(MemorySegment seg, long base, float[] p, int n) {
        int len = F.length();
        int block = 2 * len;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int i = 0; i + 2 * block <= n; i += 2 * block) {
            IntVector v = FloatVector.fromMemorySegment(F, seg, base + i * 2L, LE).reinterpretAsInts();
            IntVector u = FloatVector.fromMemorySegment(F, seg, base + (i + block) * 2L, LE).reinterpretAsInts();
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i), a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + len), a1);
            a2 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + block), a2);
            a3 = u.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, p, i + block + len), a3);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** Two adjacent rows at once, two accumulators each, one load of the paired activations for both. */
    static float twoRows(MemorySegment seg, long base, float[] p, int n, float[] out, int slot) {
        int len = F.length();
        int block = 2 * len;
        long second = base + n * 2L;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        for (int i = 0; i + block <= n; i += block) {
            FloatVector pe = FloatVector.fromArray(F, p, i);
            FloatVector po = FloatVector.fromArray(F, p, i + len);
            IntVector v = IntVector.fromMemorySegment(I, seg, base + i * 2L, LE);
            IntVector u = IntVector.fromMemorySegment(I, seg, second + i * 2L, LE);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(pe, a0);
            a1 = v.and(0xFFFF0000).reinterpretAsFloats().fma(po, a1);
            b0 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(pe, b0);
            b1 = u.and(0xFFFF0000).reinterpretAsFloats().fma(po, b1);
        }
        out[slot] += b0.add(b1).reduceLanes(VectorOperators.ADD);
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    /** The same bytes as int vectors summed: what reading them costs without decoding or multiplying. */
    static float intLoads(MemorySegment seg, long base, int n) {
        int block = 2 * F.length();
        IntVector a0 = IntVector.zero(I), a1 = IntVector.zero(I);
        for (int i = 0; i + 2 * block <= n; i += 2 * block) {
            a0 = a0.add(IntVector.fromMemorySegment(I, seg, base + i * 2L, LE));
            a1 = a1.add(IntVector.fromMemorySegment(I, seg, base + (i + block) * 2L, LE));
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }
}
