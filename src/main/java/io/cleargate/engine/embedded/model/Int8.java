package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Optional weight-only int8 quantization made at load: each row of a linear weight becomes
 * {@code round(w / s)} in -127..127 with {@code s = max|w| / 127} for that row, one byte per weight
 * plus one f32 per row. It is a {@link BlockScale} of one row by all columns, so the FP8 kernels
 * serve it unchanged. Activations stay f32. What it costs in quality is measured
 * ({@code cleargate engine perplexity}), not assumed.
 */
final class Int8 {

    private Int8() {}

    /** The int8 copy of {@code m}, allocated in {@code arena}. */
    static Matrix quantize(Matrix m, Arena arena) {
        int rows = m.rows();
        int cols = m.cols();
        MemorySegment codes = arena.allocate((long) rows * cols);
        MemorySegment scales = arena.allocate((long) rows * Float.BYTES, Float.BYTES);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Kernels.decodeRow(m, r, row);
            float max = 0f;
            for (float v : row) {
                max = Math.max(max, Math.abs(v));
            }
            float scale = max > 0 ? max / 127f : 1f;
            scales.set(Tensor.F32, (long) r * Float.BYTES, scale);
            long base = (long) r * cols;
            for (int c = 0; c < cols; c++) {
                codes.set(ValueLayout.JAVA_BYTE, base + c, (byte) Math.round(row[c] / scale));
            }
        }
        String name = m.tensor().name() + (m.firstRow() == 0 && rows == m.tensor().elementCount() / cols ? "" : "[" + m.firstRow() + "..]");
        Tensor q = new Tensor(name + "#int8", DType.I8, new long[] {rows, cols}, codes, m.tensor().file());
        Tensor s = new Tensor(name + "#int8_scale", DType.F32, new long[] {rows, 1}, scales, m.tensor().file());
        return q.asMatrix(new BlockScale(s, 1, cols));
    }
}
