package io.cleargate.engine.embedded.model;

/**
 * The per-block scales of a block-quantized weight (DeepSeek-V3's FP8 release format): element
 * {@code W[i][j]} of the real weight is {@code q[i][j] * scaleInv[i / blockRows][j / blockCols]};
 * blocks at the bottom and right edges are cut short when the shape is not a multiple of the block.
 *
 * @param scaleInv  {@code weight_scale_inv}, shape {@code [ceil(rows / blockRows), ceil(cols / blockCols)]}
 * @param blockRows rows per block (128 in every released checkpoint)
 * @param blockCols columns per block (128 likewise)
 */
public record BlockScale(Tensor scaleInv, int blockRows, int blockCols) {

    public BlockScale {
        if (blockRows <= 0 || blockCols <= 0) {
            throw new IllegalArgumentException("block size must be positive: " + blockRows + "x" + blockCols);
        }
        if (scaleInv.dtype().blockScaled()) {
            throw new IllegalArgumentException(scaleInv.describe() + " is a scale and must not itself be quantized");
        }
    }

    /** Checks the scale's shape against the {@code [rows, cols]} weight it scales. */
    void requireFits(Tensor weight) {
        long[] w = weight.shape();
        long[] s = scaleInv.shape();
        long wantRows = ceilDiv(w[0], blockRows);
        long wantCols = ceilDiv(w[1], blockCols);
        if (w.length != 2 || s.length != 2 || s[0] != wantRows || s[1] != wantCols) {
            throw new IllegalArgumentException(scaleInv.describe() + " in " + scaleInv.file() + " does not fit "
                    + weight.describeWithFile() + " with " + blockRows + "x" + blockCols + " blocks: expected ["
                    + wantRows + ", " + wantCols + "]");
        }
    }

    /** Blocks per row of the weight. */
    int blocksPerRow(int cols) {
        return (cols + blockCols - 1) / blockCols;
    }

    /** The scale of the block holding weight element (row, block column {@code blockCol}). */
    float scale(int row, int blockCol, int cols) {
        return scaleInv.get((long) (row / blockRows) * blocksPerRow(cols) + blockCol);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
