package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Not a test: how fast one thread streams f32 weight rows of 1024 columns through a decode product,
 * from a file's mapping, by kernel (four rows at a time with one FMA chain each, as main's
 * {@link Kernels#matvecRows} did; one row at a time, {@link VectorKernels#dotF32Single}; one row at a
 * time with its loads aligned, {@link VectorKernels#dotF32Aligned}) and by the rows' alignment (from a
 * 64-byte boundary, or 8 bytes past one as every tensor of the benchmark's safetensors files).
 * Alternating in rounds in one process.
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.StreamRowsBench FILE ROUNDS</pre>
 */
public final class StreamRowsBench {

    static final int COLS = 1024;

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            long bytes = (mapped.byteSize() - 4096) / 4096 * 4096;
            float[] x = new float[COLS];
            for (int i = 0; i < COLS; i++) {
                x[i] = (float) Math.sin(i);
            }
            int rows = (int) (bytes / (COLS * 4L)) - 1;
            float[] out = new float[rows];
            String[] names = {"+0 4rows", "+8 4rows", "+0 1row", "+8 1row", "+0 aligned", "+8 aligned"};
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                for (int v = 0; v < names.length; v++) {
                    MemorySegment seg = mapped;
                    long skew = (v % 2 == 1) ? 8 : 0;
                    int kind = v / 2;
                    long t0 = System.nanoTime();
                    run(seg, skew, rows, x, out, kind);
                    double s = (System.nanoTime() - t0) / 1e9;
                    line.append(String.format(Locale.ROOT, " %s %.1f", names[v], rows * COLS * 4.0 / s / 1e9));
                }
                System.out.println(line + " GB/s");
            }
        }
    }

    private static void run(MemorySegment seg, long skew, int rows, float[] x, float[] out, int kind) {
        long rowBytes = COLS * 4L;
        int r = 0;
        if (kind == 0) {
            float[] sums = new float[Tiles.SUMS];
            for (; r + 4 <= rows; r += 4) {
                Tiles.f32x1(seg, skew + r * rowBytes, rowBytes, x, 0, COLS, out, r, sums);
            }
        }
        for (; r < rows; r++) {
            long at = skew + r * rowBytes;
            out[r] = switch (kind) {
                case 0, 1 -> VectorKernels.dotF32Single(seg, at, x, 0, COLS);
                default -> VectorKernels.dotF32Aligned(seg, at, x, 0, COLS);
            };
        }
    }
}
