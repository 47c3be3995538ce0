package io.cleargate.engine.embedded.model;

/**
 * A block of consecutive rows of a weight tensor, used as a linear map {@code y = W x}. A fused
 * expert tensor {@code [E, out, in]} or one head's slice of kv_b_proj is a Matrix over the same
 * mapped bytes. A block-quantized (FP8) weight carries its {@link BlockScale}; row indices for the
 * scale are those of the whole tensor, so a slice keeps reading the right blocks.
 *
 * @param firstRow index of the first row in the tensor (viewed as 2-D)
 * @param scale    block scales of an FP8 weight, null for f32/f16/bf16
 */
public record Matrix(Tensor tensor, int firstRow, int rows, int cols, BlockScale scale) {

    public Matrix(Tensor tensor, int firstRow, int rows, int cols) {
        this(tensor, firstRow, rows, cols, null);
    }

    public Matrix {
        long available = tensor.elementCount() / cols;
        if (firstRow < 0 || rows <= 0 || firstRow + (long) rows > available || tensor.elementCount() % cols != 0) {
            throw new IllegalArgumentException("rows " + firstRow + ".." + (firstRow + rows) + " x " + cols
                    + " do not fit " + tensor.describe());
        }
        if (tensor.dtype().blockScaled() != (scale != null)) {
            throw new IllegalArgumentException(tensor.describe() + (scale == null
                    ? " is block-quantized and has no scales" : " is not block-quantized but was given block scales"));
        }
    }

    /** Rows {@code from .. from + count} of this matrix. */
    public Matrix rows(int from, int count) {
        return new Matrix(tensor, firstRow + from, count, cols, scale);
    }

    /** Flat element index of (row, 0). */
    long rowStart(int row) {
        return (long) (firstRow + row) * cols;
    }

    /** Scale of block column {@code blockCol} of row {@code row} (FP8 only). */
    float blockScale(int row, int blockCol) {
        return scale.scale(firstRow + row, blockCol, cols);
    }

    /** Bytes of weight data one product with this matrix reads (scales included). */
    public long bytes() {
        long n = (long) rows * cols * tensor.dtype().bytes();
        if (scale != null) {
            n += (long) ((rows + scale.blockRows() - 1) / scale.blockRows()) * scale.blocksPerRow(cols)
                    * scale.scaleInv().dtype().bytes();
        }
        return n;
    }

    public String describe() {
        return tensor.name() + "[" + firstRow + ".." + (firstRow + rows) + ", " + cols + "]";
    }
}
