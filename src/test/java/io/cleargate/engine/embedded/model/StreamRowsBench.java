package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Not a test: how fast one thread streams weight rows through a decode product from a file's mapping
 * (f32, or bf16 with the argument {@code bf16}), by kernel: the engine's four rows at a time
 * ({@link Tiles#f32x1}, the prefill's one-token tile; {@link VectorKernels#dotBf16Rows4}), one row at a time ({@link VectorKernels#dotF32Single}) and the kernels of
 * {@link RowKernelCandidates} (decode's before engine17 and the candidates dropped), with the rows 8 bytes
 * past a line as every tensor of the benchmark's safetensors files, and decode's old kernel once from a line
 * boundary. Alternating in rounds in one process; round 0 also prints each kernel's sum over all rows (equal
 * but for rounding). With WINDOW_MB above 0 only the file's first WINDOW_MB megabytes are read, over and over
 * (as many passes as the whole file would take), so that the rows come from cache rather than from memory:
 * the L3 of the Xeon of speed.md 49-58 holds 480 MB. Results: speed.md 50, 58.
 *
 * <pre>java --add-modules=jdk.incubator.vector -cp target/classes:target/test-classes \
 *   io.cleargate.engine.embedded.model.StreamRowsBench FILE ROUNDS [COLUMNS [f32|bf16 [WINDOW_MB]]]</pre>
 */
public final class StreamRowsBench {

    private static final String[] F32 = {"aligned+8", "single+8", "rows8+8", "4rows+8", "4rowsEdges+8", "unal4+8", "edges+8", "aligned+0"};
    private static final String[] BF16 = {"paired+8", "row+8", "edges+8", "rows4+8", "paired+0"};

    /** One kernel's pass over {@code rows} rows from byte {@code skew} of the mapping. */
    @FunctionalInterface
    private interface Pass {
        void run(MemorySegment mapped, long skew, int rows, int cols, float[] x, float[] out, int kind);
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        int cols = args.length > 2 ? Integer.parseInt(args[2]) : 1024;
        boolean bf16 = args.length > 3 && args[3].equals("bf16");
        int width = bf16 ? 2 : 4;
        String[] names = bf16 ? BF16 : F32;
        Pass pass = bf16 ? StreamRowsBench::bf16 : StreamRowsBench::f32;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            long bytes = (mapped.byteSize() - 4096) / 4096 * 4096;
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) {
                x[i] = (float) Math.sin(i);
            }
            int rows = (int) (bytes / ((long) cols * width)) / 8 * 8 - 8;
            long window = args.length > 4 ? Long.parseLong(args[4]) << 20 : 0;
            int passes = 1;
            if (window > 0 && window < bytes) {
                // The same bytes in total as one pass over the file, so that both modes time alike.
                passes = (int) (bytes / window);
                rows = (int) (window / ((long) cols * width)) / 8 * 8;
            }
            float[] out = new float[rows];
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder((bf16 ? "bf16 " : "") + "cols " + cols
                        + (passes > 1 ? " window " + (window >> 20) + " MB x" + passes : "") + " round " + round + ":");
                for (int v = 0; v < names.length; v++) {
                    long skew = v == names.length - 1 ? 0 : 8;
                    long t0 = System.nanoTime();
                    for (int p = 0; p < passes; p++) {
                        pass.run(mapped, skew, rows, cols, x, out, v);
                    }
                    double s = (System.nanoTime() - t0) / 1e9;
                    double read = (double) rows * cols * width * passes;
                    line.append(String.format(Locale.ROOT, " %s %.1f", names[v], read / s / 1e9));
                    if (round == 0) {
                        double check = 0;
                        for (int r = 0; r < rows; r++) {
                            check += out[r];
                        }
                        line.append(String.format(Locale.ROOT, " [sum %.6g]", check));
                    }
                }
                System.out.println(line + " GB/s");
            }
        }
    }

    private static void f32(MemorySegment seg, long skew, int rows, int cols, float[] x, float[] out, int kind) {
        long rowBytes = cols * 4L;
        if (kind == 2) {
            float[] eight = new float[8];
            for (int r = 0; r + 8 <= rows; r += 8) {
                RowKernelCandidates.dotF32Rows8(seg, skew + r * rowBytes, rowBytes, x, 0, cols, eight);
                System.arraycopy(eight, 0, out, r, 8);
            }
            return;
        }
        if (kind == 3) {
            float[] sums = new float[Tiles.SUMS];
            for (int r = 0; r < rows; r += 4) {
                Tiles.f32x1(seg, skew + r * rowBytes, rowBytes, x, 0, cols, out, r, sums);
            }
            return;
        }
        if (kind == 4) {
            for (int r = 0; r < rows; r += 4) {
                RowKernelCandidates.dot4RowsEdges(seg, skew + r * rowBytes, rowBytes, x, 0, cols, out, r);
            }
            return;
        }
        // Four FMA chains on one row: the engine's dot of a whole tensor's row (VectorKernels.dotF32).
        Tensor tensor = new Tensor("w", DType.F32, new long[] {rows, cols}, seg.asSlice(skew, rows * rowBytes));
        for (int r = 0; r < rows; r++) {
            long at = skew + r * rowBytes;
            out[r] = switch (kind) {
                case 1 -> VectorKernels.dotF32Single(seg, at, x, 0, cols);
                case 5 -> VectorKernels.dot(tensor, (long) r * cols, x, 0, cols);
                case 6 -> RowKernelCandidates.dotF32Edges(seg, at, x, 0, cols);
                default -> VectorKernels.dotF32Aligned(seg, at, x, 0, cols);
            };
        }
    }

    private static void bf16(MemorySegment mapped, long skew, int rows, int cols, float[] x, float[] out, int kind) {
        long rowBytes = cols * 2L;
        float[] paired = new float[cols];
        switch (kind) {
            case 0, 4 -> {
                Tensor t = new Tensor("w", DType.BF16, new long[] {rows, cols}, mapped.asSlice(skew, rows * rowBytes));
                VectorKernels.pairBf16(x, 0, cols, paired);
                for (int r = 0; r < rows; r++) {
                    out[r] = VectorKernels.dotBf16Paired(t, (long) r * cols, paired, x, 0, cols);
                }
            }
            case 1 -> {
                VectorKernels.pairBf16(x, 0, cols, paired);
                for (int r = 0; r < rows; r++) {
                    out[r] = RowKernelCandidates.dotBf16Row(mapped, skew + r * rowBytes, paired, x, 0, cols);
                }
            }
            case 3 -> {
                VectorKernels.pairBf16(x, 0, cols, paired);
                float[] four = new float[4];
                for (int r = 0; r + 4 <= rows; r += 4) {
                    VectorKernels.dotBf16Rows4(mapped, skew + r * rowBytes, rowBytes, paired, x, 0, cols, four);
                    System.arraycopy(four, 0, out, r, 4);
                }
            }
            default -> {
                int lead = RowKernelCandidates.bf16Lead(mapped, skew);
                VectorKernels.pairBf16(x, lead, cols - lead, paired);
                for (int r = 0; r < rows; r++) {
                    out[r] = RowKernelCandidates.dotBf16Edges(mapped, skew + r * rowBytes, paired, x, 0, cols, lead);
                }
            }
        }
    }
}
