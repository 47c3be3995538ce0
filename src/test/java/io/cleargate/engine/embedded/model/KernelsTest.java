package io.cleargate.engine.embedded.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The Vector API kernels agree with the scalar fallback beside them, for every dtype and odd lengths. */
class KernelsTest {

    /**
     * Relative difference allowed between two kernels that sum a product in the same steps: the
     * Vector API leaves the lane order of {@code reduceLanes} open, and interpreted and compiled code
     * differ in it, so which of two calls the JIT has compiled shows in the last bits (seen up to
     * ~1e-6 on 203-term sums); a wrong or missing term is orders of magnitude larger.
     */
    private static final float LANE_ORDER = 1e-5f;

    @Test
    void vectorPathIsActiveUnderTheBuildsJvmOptions() {
        assertTrue(Kernels.VECTOR, "surefire runs with --add-modules=jdk.incubator.vector");
    }

    @Test
    void vectorAndScalarDotProductsAgreeForEveryDtype() {
        int n = 203; // not a multiple of any lane count: exercises the tail loop
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.cos(i * 0.37);
        }
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                MemorySegment seg = arena.allocate((long) n * dtype.bytes());
                for (int i = 0; i < n; i++) {
                    float v = (float) Math.sin(i * 0.11) * 3;
                    switch (dtype) {
                        case F32 -> seg.set(Tensor.F32, i * 4L, v);
                        case F16 -> seg.set(Tensor.I16, i * 2L, Float.floatToFloat16(v));
                        case BF16 -> seg.set(Tensor.I16, i * 2L, (short) (Float.floatToRawIntBits(v) >>> 16));
                    }
                }
                Tensor t = new Tensor("t", dtype, new long[] {n}, seg);
                assertEquals(Kernels.scalarDot(t, 0, x, 0, n), VectorKernels.dot(t, 0, x, 0, n), 1e-4, dtype.name());
                float[] a = new float[n];
                float[] b = new float[n];
                Matrix row = new Matrix(t, 0, 1, n);
                Kernels.axpyRow(row, 0, 0.5f, a, 0);
                for (int i = 0; i < n; i++) {
                    b[i] += 0.5f * t.get(i);
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(b[i], a[i], 1e-6);
                }
            }
        }
    }

    @Test
    void everyFp8CodeDecodesTheSameInTheVectorPathAsInTheTable() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(256);
            for (int b = 0; b < 256; b++) {
                // The two NaN codes stay 0: a NaN weight times a 0 input is NaN in the scalar path (which
                // 128-bit vectors take), so it would spoil every sum, though weights never hold one.
                seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, b, (b & 0x7F) == 0x7F ? 0 : (byte) b);
            }
            Tensor codes = new Tensor("codes", DType.F8_E4M3, new long[] {256}, seg);
            for (int b = 0; b < 256; b++) {
                if ((b & 0x7F) == 0x7F) {
                    continue; // NaN codes never occur in weights
                }
                float[] x = new float[256];
                x[b] = 1f;
                assertEquals(Fp8.decode((byte) b), VectorKernels.dotFp8(codes, 0, x, 0, 256), 0f, "code " + b);
                float[] out = new float[256];
                VectorKernels.axpyFp8(codes, 0, 2f, out, 0, 256);
                assertEquals(2f * Fp8.decode((byte) b), out[b], 0f, "axpy code " + b);
            }
        }
    }

    @Test
    void blockScaledProductEqualsTheProductWithDequantizedWeightsIncludingEdgeBlocks() {
        int rows = 37;
        int cols = 45; // blocks of 16 x 16: two full columns of blocks and an edge of 13, an edge row block of 5
        int br = 16;
        int bc = 16;
        int nbr = (rows + br - 1) / br;
        int nbc = (cols + bc - 1) / bc;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate((long) rows * cols);
            MemorySegment s = arena.allocate((long) nbr * nbc * 4);
            MemorySegment deq = arena.allocate((long) rows * cols * 4);
            for (int i = 0; i < nbr * nbc; i++) {
                s.set(Tensor.F32, i * 4L, 0.01f * (i + 1));
            }
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    byte code = (byte) ((r * 31 + c * 17) & 0xFF);
                    if ((code & 0x7F) == 0x7F) {
                        code = 0;
                    }
                    q.set(java.lang.foreign.ValueLayout.JAVA_BYTE, (long) r * cols + c, code);
                    float scale = s.get(Tensor.F32, ((long) (r / br) * nbc + c / bc) * 4);
                    deq.set(Tensor.F32, ((long) r * cols + c) * 4, Fp8.decode(code) * scale);
                }
            }
            Tensor weight = new Tensor("w", DType.F8_E4M3, new long[] {rows, cols}, q);
            Matrix fp8 = weight.asMatrix(new BlockScale(new Tensor("w_scale_inv", DType.F32, new long[] {nbr, nbc}, s), br, bc));
            Matrix f32 = new Tensor("d", DType.F32, new long[] {rows, cols}, deq).asMatrix();
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) {
                x[i] = (float) Math.sin(i * 0.7) + 0.001f;
            }
            float[] a = new float[rows];
            float[] b = new float[rows];
            Kernels.matvec(fp8, x, a);
            Kernels.matvec(f32, x, b);
            for (int r = 0; r < rows; r++) {
                assertEquals(b[r], a[r], 1e-4 * Math.max(1, Math.abs(b[r])), "row " + r);
                assertEquals(Kernels.scalarDot(f32.tensor(), (long) r * cols, x, 0, cols), Kernels.dotRow(fp8, r, x, 0),
                        1e-4 * Math.max(1, Math.abs(b[r])), "row " + r + " against the scalar loop");
            }
            // Rows sliced from the middle still read their own blocks (as kv_b_proj's per-head views do).
            Matrix slice = fp8.rows(18, 7);
            float[] c = new float[7];
            Kernels.matvec(slice, x, c);
            for (int r = 0; r < 7; r++) {
                assertEquals(b[18 + r], c[r], 1e-4 * Math.max(1, Math.abs(b[18 + r])));
            }
            float[] acc = new float[cols];
            float[] expected = new float[cols];
            Kernels.axpyRow(fp8, 20, 0.5f, acc, 0);
            for (int i = 0; i < cols; i++) {
                expected[i] = 0.5f * f32.tensor().get(20L * cols + i);
            }
            for (int i = 0; i < cols; i++) {
                assertEquals(expected[i], acc[i], 1e-6 * Math.max(1, Math.abs(expected[i])));
            }
        }
    }

    @Test
    void batchedProductEqualsOneProductPerTokenForOddRowCountsAndBatchSizes() {
        // Batch sizes 2, 3, 6 and 7 leave two, three and one tokens after the four-token tiles (the
        // two- and one-token tails), in f32 and bf16 read in place; from 16 tokens the rows are decoded
        // into arrays first, and 17 and 18 leave one and two tokens after its four-token tiles.
        batchedEqualsSingle(DType.F32);
        batchedEqualsSingle(DType.BF16);
    }

    private static void batchedEqualsSingle(DType dtype) {
        int cols = 203;
        for (int rows : new int[] {1, 7, 130}) {
            for (int n : new int[] {2, 3, 5, 6, 7, 9, 17, 18}) {
                try (Arena arena = Arena.ofShared()) { // the team's threads read it
                    MemorySegment seg = arena.allocate((long) rows * cols * dtype.bytes());
                    for (int i = 0; i < rows * cols; i++) {
                        float v = (float) Math.sin(i * 0.013) * 2;
                        if (dtype == DType.F32) {
                            seg.set(Tensor.F32, i * 4L, v);
                        } else {
                            seg.set(Tensor.I16, i * 2L, (short) (Float.floatToRawIntBits(v) >>> 16));
                        }
                    }
                    Matrix w = new Tensor("w", dtype, new long[] {rows, cols}, seg).asMatrix();
                    float[] x = new float[n * cols];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) Math.cos(i * 0.29);
                    }
                    float[] batched = new float[n * rows];
                    Kernels.matmul(w, x, n, cols, batched, rows);
                    for (int t = 0; t < n; t++) {
                        float[] single = new float[rows];
                        Kernels.matvec(w, x, t * cols, single, 0);
                        for (int r = 0; r < rows; r++) {
                            assertEquals(single[r], batched[t * rows + r], 1e-5 * Math.max(1, Math.abs(single[r])),
                                    dtype + " " + rows + "x" + n + " token " + t + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theTailKernelsGiveEveryRowAndTokenTheSameSumAsTheOneRowDot() {
        int cols = 203;
        int rows = 11;
        float[] w = new float[rows * cols];
        float[] x = new float[3 * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(i * 0.017) * 2;
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i * 0.29);
        }
        float[][] r = new float[4][];
        for (int k = 0; k < 4; k++) {
            r[k] = java.util.Arrays.copyOfRange(w, (3 + k) * cols, (4 + k) * cols);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate((long) w.length * 4);
            for (int i = 0; i < w.length; i++) {
                seg.set(Tensor.F32, i * 4L, w[i]);
            }
            long at = 3L * cols * 4;
            float[] two = new float[2 * rows];
            float[] twoMapped = new float[2 * rows];
            float[] one = new float[rows];
            float[] oneMapped = new float[rows];
            float[] sums = new float[Tiles.SUMS];
            Tiles.arrays4x2(w, 3 * cols, cols, x, cols, cols, cols, two, 3, rows, sums);
            Tiles.f32x2(seg, at, cols * 4L, x, cols, cols, cols, twoMapped, 3, rows, 1, sums);
            Tiles.arrays4x1(w, 3 * cols, cols, x, 2 * cols, cols, one, 3, 1, sums);
            Tiles.f32x1(seg, at, cols * 4L, x, 2 * cols, cols, oneMapped, 3, 1, sums);
            for (int k = 0; k < 4; k++) {
                for (int t = 0; t < 2; t++) {
                    float expected = Kernels.dot(r[k], 0, x, (1 + t) * cols, cols);
                    assertEquals(expected, two[3 + k + t * rows], LANE_ORDER * Math.max(1, Math.abs(expected)), "4x2 row " + k + " token " + t);
                    // Read in place the lanes may be summed in another order (the API leaves it open).
                    assertEquals(expected, twoMapped[3 + k + t * rows], 1e-5f * Math.max(1, Math.abs(expected)),
                            "4x2 mapped row " + k + " token " + t);
                }
                float expected = Kernels.dot(r[k], 0, x, 2 * cols, cols);
                assertEquals(expected, one[3 + k], LANE_ORDER * Math.max(1, Math.abs(expected)), "4x1 row " + k);
                assertEquals(expected, oneMapped[3 + k], 1e-5f * Math.max(1, Math.abs(expected)), "4x1 mapped row " + k);
            }
        }
    }

    @Test
    void theFourRowKernelGivesEveryRowAndTokenTheSameSumAsTheOneRowDot() {
        int cols = 203;
        int rows = 11;
        int n = 9;
        float[] w = new float[rows * cols];
        float[] x = new float[n * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(i * 0.017) * 2;
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i * 0.29);
        }
        float[] out = new float[4 * rows];
        float[][] r = new float[4][];
        for (int k = 0; k < 4; k++) {
            r[k] = java.util.Arrays.copyOfRange(w, (3 + k) * cols, (4 + k) * cols);
        }
        Tiles.arrays4x4(w, 3 * cols, cols, x, cols, cols, cols, out, 3, rows, new float[Tiles.SUMS]);
        for (int k = 0; k < 4; k++) {
            for (int t = 0; t < 4; t++) {
                float expected = Kernels.dot(r[k], 0, x, (1 + t) * cols, cols);
                assertEquals(expected, out[3 + k + t * rows], LANE_ORDER * Math.max(1, Math.abs(expected)), "row " + k + " token " + t);
            }
        }
    }

    @Test
    void decodeProductOfF32RowsGivesEveryRowItsOwnDotForAnySplit() {
        // 203 columns leave a scalar tail after the vectors, and rows of 203 floats start at every
        // offset from a 64-byte boundary, so the aligned kernel's scalar lead takes 0 to 15 elements;
        // splits at 0, 3 and 6 give a member rows that do not start at a multiple of four.
        int cols = 203;
        int rows = 11;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate((long) rows * cols * 4);
            float[][] w = new float[rows][cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    w[r][c] = (float) Math.sin((r * cols + c) * 0.017) * 2;
                    seg.set(Tensor.F32, (r * (long) cols + c) * 4, w[r][c]);
                }
            }
            Matrix m = new Tensor("w", DType.F32, new long[] {rows, cols}, seg).asMatrix();
            float[] x = new float[cols + 5];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.cos(i * 0.29);
            }
            for (int split : new int[] {0, 3, 6}) {
                float[] out = new float[rows + 2];
                Kernels.matvecRows(m, x, 5, out, 2, 0, split);
                Kernels.matvecRows(m, x, 5, out, 2, split, rows);
                for (int r = 0; r < rows; r++) {
                    float expected = Kernels.scalarDot(w[r], 0, x, 5, cols);
                    assertEquals(expected, out[2 + r], 1e-5f * Math.max(1, Math.abs(expected)), "split " + split + " row " + r);
                }
            }
        }
    }

    @Test
    void fewTokenProductsGiveEveryRowAndTokenItsDotWhereverTheRowsStartAndHoweverSplit() {
        // Below 16 tokens f32 and bf16 rows are read in place, four rows against four, two and one
        // tokens, then single rows. Every (row, token) must get the dot product whatever the split of
        // rows (up to the lanes' order), for weights starting at every element offset within a line
        // (safetensors starts tensors wherever its header ends), widths with and without whole lines
        // per row (5, 203: rows start at different offsets; 256, 1024: all at one) and inputs at any offset.
        fewTokenProductsGiveTheDot(DType.F32);
        fewTokenProductsGiveTheDot(DType.BF16);
    }

    private static void fewTokenProductsGiveTheDot(DType dtype) {
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {5, 203, 256, 1024}) {
                int rows = 11;
                int size = dtype.bytes();
                long bytes = (long) rows * cols * size;
                MemorySegment block = arena.allocate(bytes + 64, 64);
                for (long skew = 0; skew < 64; skew += size) {
                    MemorySegment seg = block.asSlice(skew, bytes);
                    float[][] w = new float[rows][cols];
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) {
                            float v = (float) Math.sin((r * cols + c) * 0.017 + skew) * 2;
                            if (dtype == DType.F32) {
                                w[r][c] = v;
                                seg.set(Tensor.F32, (r * (long) cols + c) * 4, v);
                            } else {
                                short bits = (short) (Float.floatToRawIntBits(v) >>> 16);
                                w[r][c] = Float.intBitsToFloat(bits << 16);
                                seg.set(Tensor.I16, (r * (long) cols + c) * 2, bits);
                            }
                        }
                    }
                    Matrix m = new Tensor("w", dtype, new long[] {rows, cols}, seg).asMatrix();
                    for (int n : new int[] {2, 3, 4, 5, 7, 15}) {
                        float[] x = new float[n * cols + 3];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) Math.cos(i * 0.29 + skew);
                        }
                        float[] whole = new float[n * rows];
                        Kernels.matmulRows(m, x, 3, n, cols, whole, 0, rows, 0, rows);
                        for (int split : new int[] {1, 3, 6}) {
                            float[] parts = new float[n * rows];
                            Kernels.matmulRows(m, x, 3, n, cols, parts, 0, rows, 0, split);
                            Kernels.matmulRows(m, x, 3, n, cols, parts, 0, rows, split, rows);
                            for (int r = 0; r < rows; r++) {
                                for (int t = 0; t < n; t++) {
                                    String where = dtype + ", " + cols + " columns from " + skew + " bytes past a line, " + n + " tokens, row " + r
                                            + ", token " + t;
                                    double expected = 0;
                                    for (int c = 0; c < cols; c++) {
                                        expected += (double) w[r][c] * x[3 + t * cols + c];
                                    }
                                    assertEquals(expected, whole[t * rows + r], 1e-4 * Math.max(1, Math.abs(expected)), where);
                                    assertEquals(whole[t * rows + r], parts[t * rows + r],
                                            LANE_ORDER * Math.max(1, Math.abs(expected)), where + ", split " + split);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void f32DecodeRowsGiveTheExactDotAtEveryAlignmentAndTheSameSumWhateverTheSplit() {
        // Rows starting 0, 4, .. 60 bytes past a line, widths with and without whole vectors and tails;
        // four at a time, shares of 1 to 3 rows go through the four-row kernel with the row repeated; one
        // at a time, the aligned loads start at a different element for every skew.
        for (Kernels.DecodeRows way : Kernels.DecodeRows.values()) {
            f32DecodeRowsGiveTheExactDot(way);
        }
    }

    private static void f32DecodeRowsGiveTheExactDot(Kernels.DecodeRows way) {
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1, 3, 16, 17, 40, 203, 256, 1024}) {
                int rows = 11;
                MemorySegment block = arena.allocate((long) rows * cols * 4 + 64, 64);
                for (long skew = 0; skew < 64; skew += 4) {
                    MemorySegment seg = block.asSlice(skew, (long) rows * cols * 4);
                    for (int i = 0; i < rows * cols; i++) {
                        seg.set(Tensor.F32, i * 4L, (float) Math.sin(i * 0.013 + skew) * 2);
                    }
                    Matrix w = new Tensor("w", DType.F32, new long[] {rows, cols}, seg).asMatrix();
                    float[] x = new float[cols + 5];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) Math.cos(i * 0.31 + skew);
                    }
                    float[] whole = new float[rows];
                    Kernels.matvecRows(w, x, 5, whole, 0, 0, rows, way);
                    for (int r = 0; r < rows; r++) {
                        double expected = 0;
                        for (int c = 0; c < cols; c++) {
                            expected += (double) seg.get(Tensor.F32, ((long) r * cols + c) * 4) * x[5 + c];
                        }
                        assertEquals(expected, whole[r], 1e-5 * Math.max(1, Math.abs(expected)),
                                way + ": " + cols + " columns from " + skew + " bytes past a line, row " + r);
                    }
                    for (int split = 1; split < rows; split++) {
                        float[] parts = new float[rows];
                        Kernels.matvecRows(w, x, 5, parts, 0, 0, split, way);
                        Kernels.matvecRows(w, x, 5, parts, 0, split, rows, way);
                        for (int r = 0; r < rows; r++) {
                            assertEquals(whole[r], parts[r], LANE_ORDER * Math.max(1, Math.abs(whole[r])),
                                    way + ": " + cols + " columns, split at " + split + ", row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void decodeReadsRowsOneAtATimeOnAmdFourElsewhereAndRefusesAnUnknownOverride() {
        assertEquals(Kernels.DecodeRows.ONE, Kernels.DecodeRows.of(null, "AuthenticAMD"));
        assertEquals(Kernels.DecodeRows.FOUR, Kernels.DecodeRows.of(null, "GenuineIntel"));
        assertEquals(Kernels.DecodeRows.FOUR, Kernels.DecodeRows.of(null, null));
        assertEquals(Kernels.DecodeRows.FOUR, Kernels.DecodeRows.of("four", "AuthenticAMD"));
        assertEquals(Kernels.DecodeRows.ONE, Kernels.DecodeRows.of("one", "GenuineIntel"));
        assertThrows(IllegalArgumentException.class, () -> Kernels.DecodeRows.of("1", "AuthenticAMD"));
    }

    @Test
    void bf16RowsFourAtATimeGiveTheExactDotAtEveryAlignmentAndRepeatedRowsTheirOwnSum() {
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {1, 7, 32, 33, 64, 100, 203, 256, 1024}) {
                int rows = 4;
                MemorySegment block = arena.allocate((long) rows * cols * 2 + 64, 64);
                for (long skew = 0; skew < 64; skew += 2) {
                    MemorySegment seg = block.asSlice(skew, (long) rows * cols * 2);
                    for (int i = 0; i < rows * cols; i++) {
                        float v = (float) Math.sin(i * 0.07 + skew) * 2;
                        seg.set(Tensor.I16, i * 2L, (short) (Float.floatToRawIntBits(v) >>> 16));
                    }
                    float[] x = new float[cols + 3];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) Math.cos(i * 0.41 + skew);
                    }
                    float[] paired = VectorKernels.pairBf16(x, 3, cols, new float[cols]);
                    float[] four = new float[4];
                    VectorKernels.dotBf16Rows4(seg, 0, cols * 2L, paired, x, 3, cols, four);
                    for (int r = 0; r < rows; r++) {
                        double expected = 0;
                        for (int c = 0; c < cols; c++) {
                            expected += (double) Float.intBitsToFloat(seg.get(Tensor.I16, ((long) r * cols + c) * 2) << 16) * x[3 + c];
                        }
                        String where = cols + " columns from " + skew + " bytes past a line, row " + r;
                        assertEquals(expected, four[r], 1e-4 * Math.max(1, Math.abs(expected)), where);
                        float[] alone = new float[4];
                        VectorKernels.dotBf16Rows4(seg, (long) r * cols * 2, 0, paired, x, 3, cols, alone);
                        assertEquals(four[r], alone[0], LANE_ORDER * Math.max(1, Math.abs(four[r])), where + ", repeated");
                    }
                }
            }
        }
    }

    @Test
    void pairedBf16RowsGiveTheScalarDotForLengthsWithAndWithoutAPartialBlock() {
        try (Arena arena = Arena.ofShared()) {
            for (int cols : new int[] {7, 32, 64, 100, 203, 1024}) {
                int rows = 5;
                MemorySegment seg = arena.allocate((long) rows * cols * 2);
                for (int i = 0; i < rows * cols; i++) {
                    float v = (float) Math.sin(i * 0.11) * 3;
                    seg.set(Tensor.I16, i * 2L, (short) (Float.floatToRawIntBits(v) >>> 16));
                }
                Matrix w = new Tensor("w", DType.BF16, new long[] {rows, cols}, seg).asMatrix();
                float[] x = new float[cols + 3];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) Math.cos(i * 0.37);
                }
                for (Kernels.DecodeRows way : Kernels.DecodeRows.values()) {
                    float[] out = new float[rows];
                    Kernels.matvecRows(w, x, 3, out, 0, 0, rows, way);
                    for (int r = 0; r < rows; r++) {
                        double expected = 0;
                        for (int c = 0; c < cols; c++) {
                            expected += (double) w.tensor().get((long) r * cols + c) * x[3 + c];
                        }
                        assertEquals(expected, out[r], 1e-4 * Math.max(1, Math.abs(expected)), way + ": " + cols + " columns, row " + r);
                    }
                }
            }
        }
    }

    @Test
    void bf16DecodeRowsGiveEachRowTheSameSumWhateverTheSplit() {
        // Rows are summed four at a time, a share's last rows with the row repeated; a row's result must
        // not depend on which member's share it falls in.
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {100, 203, 256}) {
                int rows = 11;
                MemorySegment seg = arena.allocate((long) rows * cols * 2);
                for (int i = 0; i < rows * cols; i++) {
                    float v = (float) Math.sin(i * 0.07) * 2;
                    seg.set(Tensor.I16, i * 2L, (short) (Float.floatToRawIntBits(v) >>> 16));
                }
                Matrix w = new Tensor("w", DType.BF16, new long[] {rows, cols}, seg).asMatrix();
                float[] x = new float[cols + 2];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) Math.cos(i * 0.41);
                }
                for (Kernels.DecodeRows way : Kernels.DecodeRows.values()) {
                    float[] whole = new float[rows];
                    Kernels.matvecRows(w, x, 2, whole, 0, 0, rows, way);
                    for (int split : new int[] {1, 3, 6}) {
                        float[] parts = new float[rows];
                        Kernels.matvecRows(w, x, 2, parts, 0, 0, split, way);
                        Kernels.matvecRows(w, x, 2, parts, 0, split, rows, way);
                        for (int r = 0; r < rows; r++) {
                            String where = way + ": " + cols + " columns, split " + split + ", row " + r;
                            assertEquals(whole[r], parts[r], 1e-6f * Math.max(1, Math.abs(whole[r])), where);
                            double expected = 0;
                            for (int c = 0; c < cols; c++) {
                                expected += (double) w.tensor().get((long) r * cols + c) * x[2 + c];
                            }
                            assertEquals(expected, parts[r], 1e-4 * Math.max(1, Math.abs(expected)), where);
                        }
                    }
                }
            }
        }
    }

    @Test
    void bf16RowsReadInPlaceForFewTokensGiveExactlyTheSumsOfTheWidenedRows() {
        // Below 16 tokens bf16 rows are widened in registers where they are mapped (four rows against
        // four, two and one tokens, then single rows); every (row, token) must get the sum the row
        // widened into an array gives (up to the lanes' order), whatever the batch size and the split of rows.
        try (Arena arena = Arena.ofShared()) {
            for (int cols : new int[] {203, 256}) {
                int rows = 11;
                MemorySegment seg = arena.allocate((long) rows * cols * 2);
                for (int i = 0; i < rows * cols; i++) {
                    float v = (float) Math.sin(i * 0.07) * 2;
                    seg.set(Tensor.I16, i * 2L, (short) (Float.floatToRawIntBits(v) >>> 16));
                }
                Matrix w = new Tensor("w", DType.BF16, new long[] {rows, cols}, seg).asMatrix();
                for (int n : new int[] {2, 3, 4, 5, 7, 15}) {
                    float[] x = new float[n * cols];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) Math.cos(i * 0.41);
                    }
                    for (int split : new int[] {0, 3, 6}) {
                        float[] out = new float[n * rows];
                        Kernels.matmulRows(w, x, 0, n, cols, out, 0, rows, 0, split);
                        Kernels.matmulRows(w, x, 0, n, cols, out, 0, rows, split, rows);
                        float[] row = new float[cols];
                        for (int r = 0; r < rows; r++) {
                            Kernels.decodeRow(w, r, row);
                            for (int t = 0; t < n; t++) {
                                float expected = Kernels.dot(row, 0, x, t * cols, cols);
                                assertEquals(expected, out[t * rows + r], LANE_ORDER * Math.max(1, Math.abs(expected)),
                                        cols + " columns, " + n + " tokens, split " + split + ", row " + r + ", token " + t);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void everyTileSumsEachRowAndTokenToItsDotThroughTheHalvingTree() {
        // The tiles' sixteen (eight, four) sums leave the registers through one tree of permutes; a lane
        // taken from the wrong accumulator or a wrong step gives another row's or token's sum, far off.
        // Widths with a scalar tail (5, 203) and without (256, 1024); weights 8 bytes past a line as in
        // the benchmark's safetensors files.
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {5, 203, 256, 1024}) {
                float[][] w = new float[4][cols];
                float[][] wb = new float[4][cols];
                float[] flat = new float[4 * cols];
                MemorySegment f32 = arena.allocate(4L * cols * 4 + 64, 64).asSlice(8, 4L * cols * 4);
                MemorySegment bf16 = arena.allocate(4L * cols * 2 + 64, 64).asSlice(8, 4L * cols * 2);
                for (int r = 0; r < 4; r++) {
                    for (int c = 0; c < cols; c++) {
                        float v = (float) Math.sin((r * cols + c) * 0.37) * (r + 1);
                        short bits = (short) (Float.floatToRawIntBits(v) >>> 16);
                        w[r][c] = v;
                        flat[r * cols + c] = v;
                        wb[r][c] = Float.intBitsToFloat(bits << 16);
                        f32.set(Tensor.F32, (r * (long) cols + c) * 4, v);
                        bf16.set(Tensor.I16, (r * (long) cols + c) * 2, bits);
                    }
                }
                float[] x = new float[3 + 4 * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) Math.cos(i * 0.29) * (1 + i % 7);
                }
                float[] sums = new float[Tiles.SUMS];
                int stride = 9; // outputs of token t at 2 + t * 9 + row
                for (int tokens : new int[] {4, 2, 1}) {
                    float[] fromF32 = new float[40];
                    float[] fromBf16 = new float[40];
                    float[] fromArrays = new float[40];
                    switch (tokens) {
                        case 4 -> {
                            Tiles.f32x4(f32, 0, cols * 4L, x, 3, cols, cols, fromF32, 2, stride, 1, sums);
                            Tiles.bf16x4(bf16, 0, cols * 2L, x, 3, cols, cols, fromBf16, 2, stride, 1, sums);
                            Tiles.arrays4x4(flat, 0, cols, x, 3, cols, cols, fromArrays, 2, stride, sums);
                        }
                        case 2 -> {
                            Tiles.f32x2(f32, 0, cols * 4L, x, 3, cols, cols, fromF32, 2, stride, 1, sums);
                            Tiles.bf16x2(bf16, 0, cols * 2L, x, 3, cols, cols, fromBf16, 2, stride, 1, sums);
                            Tiles.arrays4x2(flat, 0, cols, x, 3, cols, cols, fromArrays, 2, stride, sums);
                        }
                        default -> {
                            Tiles.f32x1(f32, 0, cols * 4L, x, 3, cols, fromF32, 2, 1, sums);
                            Tiles.bf16x1(bf16, 0, cols * 2L, x, 3, cols, fromBf16, 2, 1, sums);
                            Tiles.arrays4x1(flat, 0, cols, x, 3, cols, fromArrays, 2, 1, sums);
                        }
                    }
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < 4; r++) {
                            double exact = 0;
                            double exactBf16 = 0;
                            for (int c = 0; c < cols; c++) {
                                exact += (double) w[r][c] * x[3 + t * cols + c];
                                exactBf16 += (double) wb[r][c] * x[3 + t * cols + c];
                            }
                            String where = cols + " columns, 4x" + tokens + " tile, row " + r + ", token " + t;
                            int at = 2 + t * stride + r;
                            assertEquals(exact, fromF32[at], 1e-4 * Math.max(1, Math.abs(exact)), "f32 " + where);
                            assertEquals(exactBf16, fromBf16[at], 1e-4 * Math.max(1, Math.abs(exactBf16)), "bf16 " + where);
                            assertEquals(exact, fromArrays[at], 1e-4 * Math.max(1, Math.abs(exact)), "arrays " + where);
                        }
                    }
                }
            }
        }
    }

    @Test
    void panelProductsGiveEveryRowAndTokenItsDotAndTheSameSumHoweverTheRowsAreSplit() {
        // Batches of 16 tokens and more (Panels): full and partial panels, tiles of 12, 4 and 1 tokens,
        // widths with and without a partial block of columns, f32 and bf16 rows 8 bytes past a line.
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
                for (int cols : new int[] {5, 203, 256}) {
                    int rows = 75;
                    double[][] w = new double[rows][cols];
                    Matrix m = waveRows(arena, dtype, w);
                    for (int n : new int[] {16, 17, 23, 24, 25, 28, 29, 64}) {
                        int stride = cols + 3;
                        float[] x = new float[2 + n * stride];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) Math.cos(i * 0.29) * (1 + i % 7);
                        }
                        float[] whole = new float[1 + n * 80];
                        Kernels.matmulRows(m, x, 2, n, stride, whole, 1, 80, 0, rows);
                        // Chunks that cut panels anywhere (12), and whole panels as a prefill's steps deal them (16, 32, 64).
                        float[][] splits = new float[4][1 + n * 80];
                        int[] chunks = {12, 16, 32, 64};
                        for (int i = 0; i < chunks.length; i++) {
                            for (int from = 0, to; from < rows; from = to) {
                                to = Math.min(rows, from + chunks[i]);
                                Kernels.matmulRows(m, x, 2, n, stride, splits[i], 1, 80, from, to);
                            }
                        }
                        for (int t = 0; t < n; t++) {
                            for (int r = 0; r < rows; r++) {
                                double exact = exactDot(w[r], x, 2 + t * stride);
                                int at = 1 + t * 80 + r;
                                String where = dtype + ", " + cols + " columns, " + n + " tokens, row " + r + ", token " + t;
                                assertEquals(exact, whole[at], 1e-4 * Math.max(1, Math.abs(exact)), where);
                                for (int i = 0; i < chunks.length; i++) {
                                    assertEquals(whole[at], splits[i][at], 0f, "rows in chunks of " + chunks[i] + ", " + where);
                                }
                            }
                            for (int r = rows; r < 80; r++) {
                                assertEquals(0f, whole[1 + t * 80 + r], "nothing written past the rows, token " + t);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A matrix of {@code w.length} rows of {@code w[0].length} wave values in {@code dtype}, 8 bytes past a line (as in
     * the benchmark's safetensors files); {@code w} receives the values as stored (bf16: the widened value).
     */
    private static Matrix waveRows(Arena arena, DType dtype, double[][] w) {
        int rows = w.length;
        int cols = w[0].length;
        long bytes = (long) rows * cols * dtype.bytes();
        MemorySegment seg = arena.allocate(bytes + 64, 64).asSlice(8, bytes);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = (float) Math.sin((r * cols + c) * 0.37) * (1 + r % 5);
                long i = (long) r * cols + c;
                if (dtype == DType.F32) {
                    seg.set(Tensor.F32, i * 4, v);
                    w[r][c] = v;
                } else {
                    short bits = (short) (Float.floatToRawIntBits(v) >>> 16);
                    seg.set(Tensor.I16, i * 2, bits);
                    w[r][c] = Float.intBitsToFloat(bits << 16);
                }
            }
        }
        return new Matrix(new Tensor("w", dtype, new long[] {rows, cols}, seg), 0, rows, cols);
    }

    /** Row {@code w} times {@code x[xOff ..]} in doubles. */
    private static double exactDot(double[] w, float[] x, int xOff) {
        double sum = 0;
        for (int c = 0; c < w.length; c++) {
            sum += w[c] * x[xOff + c];
        }
        return sum;
    }

    @Test
    void tokenLaneProductsGiveEveryRowAndTokenThePanelsBitsHoweverTheRowsAreSplit() {
        // A whole prefill chunk (49-64 tokens) with the tokens in lanes: the same sums as the panels, bit for bit,
        // for widths with and without a partial block of columns, rows in tiles of six and one, f32 and bf16 rows
        // 8 bytes past a line; with vectors of other than 16 lanes the path is off.
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
                for (int cols : new int[] {5, 203, 256}) {
                    int rows = 75;
                    double[][] w = new double[rows][cols];
                    Matrix m = waveRows(arena, dtype, w);
                    for (int n : new int[] {48, 49, 50, 57, 63, 64, 65}) {
                        int stride = cols + 3;
                        float[] x = new float[2 + n * stride];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) Math.cos(i * 0.29) * (1 + i % 7);
                        }
                        TokenLanes.Input in = TokenLanes.of(x, 2, n, stride, cols);
                        boolean runs = TokenLanes.USABLE && n > 48 && n <= 64;
                        assertEquals(runs, in != null, n + " tokens, " + cols + " columns");
                        if (in == null) {
                            continue;
                        }
                        float[] panels = new float[1 + n * 80];
                        Kernels.matmulRows(m, x, 2, n, stride, panels, 1, 80, 0, rows);
                        for (int chunk : new int[] {rows, 6, 7, 16, 32, 64}) {
                            float[] lanes = new float[1 + n * 80];
                            for (int from = 0, to; from < rows; from = to) {
                                to = Math.min(rows, from + chunk);
                                TokenLanes.matmulRows(m, in, lanes, 1, 80, from, to);
                            }
                            for (int t = 0; t < n; t++) {
                                for (int r = 0; r < rows; r++) {
                                    double exact = exactDot(w[r], x, 2 + t * stride);
                                    int at = 1 + t * 80 + r;
                                    String where = dtype + ", " + cols + " columns, " + n + " tokens, chunks of " + chunk + ", row " + r + ", token " + t;
                                    assertEquals(exact, lanes[at], 1e-4 * Math.max(1, Math.abs(exact)), where);
                                    assertEquals(panels[at], lanes[at], 0f, "as the panels, " + where);
                                }
                                for (int r = rows; r < 80; r++) {
                                    assertEquals(0f, lanes[1 + t * 80 + r], "nothing written past the rows, token " + t);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void causalScoresGiveEveryTokenAndSeenPositionTheOneRowDotForAnyBatchAndCacheLength() {
        int width = 45; // not a multiple of the lane count: the scalar tail runs
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 9}) {
            for (int before : new int[] {0, 1, 6}) {
                int keys = before + n;
                float[] query = wave(n * width, 0.37);
                float[] cache = wave(keys * width, 0.11);
                float[] p = new float[n * keys];
                Kernels.causalScores(query, n, width, cache, keys, p);
                for (int t = 0; t < n; t++) {
                    for (int u = 0; u <= before + t; u++) {
                        float expected = Kernels.dot(query, t * width, cache, u * width, width);
                        assertEquals(expected, p[t * keys + u], LANE_ORDER * Math.max(1, Math.abs(expected)),
                                n + " tokens after " + before + ": token " + t + " position " + u);
                    }
                }
            }
        }
    }

    @Test
    void broadcastProductEqualsTheTripleLoopWithFusedMultiplyAddsCausalOrNot() {
        int depth = 13;
        for (int rows : new int[] {1, 3, 4, 6, 9}) {
            for (int cols : new int[] {5, 16, 37, 70}) {
                for (boolean causal : new boolean[] {false, true}) {
                    int aStride = depth + 2;
                    int bStride = cols + 3;
                    float[] a = wave(rows * aStride, 0.23);
                    float[] b = wave(depth * bStride, 0.71);
                    if (causal) { // as attention's probabilities: zero past each row's own position
                        for (int t = 0; t < rows; t++) {
                            java.util.Arrays.fill(a, 1 + t * aStride + depth - rows + t + 1, 1 + t * aStride + depth, 0f);
                        }
                    }
                    float[] out = new float[rows * (cols + 1)];
                    Kernels.gemm(a, 1, aStride, rows, depth, causal, b, 2, bStride, cols, out, 0, cols + 1);
                    for (int t = 0; t < rows; t++) {
                        int kEnd = causal ? depth - rows + t + 1 : depth;
                        for (int j = 0; j < cols; j++) {
                            float c = 0f;
                            for (int k = 0; k < kEnd; k++) {
                                c = Math.fma(b[2 + k * bStride + j], a[1 + t * aStride + k], c);
                            }
                            assertEquals(c, out[t * (cols + 1) + j], 0f, rows + "x" + cols + (causal ? " causal" : "") + " at " + t + "," + j);
                        }
                    }
                }
            }
        }
    }

    @Test
    void vectorSwiGluFollowsTheScalarOneForOddRangesAndLargeInputs() {
        for (int n : new int[] {1, 15, 16, 17, 203}) {
            float[] gate = new float[n + 5];
            float[] up = new float[n + 5];
            for (int i = 0; i < gate.length; i++) {
                gate[i] = (float) Math.sin(i * 0.7) * (i % 3 == 0 ? 90 : 4); // exp(-z) overflows for z below ~-88
                up[i] = (float) Math.cos(i * 0.3) * 2;
            }
            float[] before = gate.clone();
            Kernels.siluTimes(gate, up, 2, 2 + n);
            for (int i = 0; i < gate.length; i++) {
                if (i < 2 || i >= 2 + n) {
                    assertEquals(before[i], gate[i], 0f, "untouched outside the range, " + i);
                    continue;
                }
                double z = before[i];
                double expected = z / (1 + Math.exp(-z)) * up[i];
                assertEquals(expected, gate[i], 1e-5 * Math.max(1, Math.abs(expected)), n + " values, element " + i);
            }
        }
    }

    @Test
    void vectorSoftmaxSumsToOneAndFollowsTheScalarOne() {
        for (int n : new int[] {1, 15, 16, 17, 100}) {
            float[] x = wave(n + 3, 1.3);
            for (int i = 0; i < x.length; i++) {
                x[i] *= 8;
            }
            float[] expected = java.util.Arrays.copyOfRange(x, 3, 3 + n);
            Model.softmaxInPlace(expected, n);
            Kernels.softmax(x, 3, n);
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += x[3 + i];
                assertEquals(expected[i], x[3 + i], 1e-6 * Math.max(1e-3, expected[i]) + 1e-9, n + " scores, position " + i);
            }
            assertEquals(1.0, sum, 1e-5, n + " scores");
        }
    }

    private static float[] wave(int n, double step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i * step + 0.5);
        }
        return v;
    }
}
