package io.cleargate.engine.embedded.model;

/**
 * A block of consecutive rows of a weight tensor, used as a linear map {@code y = W x}. A fused
 * expert tensor {@code [E, out, in]} or one head's slice of kv_b_proj is a Matrix over the same
 * mapped bytes.
 *
 * @param firstRow index of the first row in the tensor (viewed as 2-D)
 */
public record Matrix(Tensor tensor, int firstRow, int rows, int cols) {

    public Matrix {
        long available = tensor.elementCount() / cols;
        if (firstRow < 0 || rows <= 0 || firstRow + (long) rows > available || tensor.elementCount() % cols != 0) {
            throw new IllegalArgumentException("rows " + firstRow + ".." + (firstRow + rows) + " x " + cols
                    + " do not fit " + tensor.describe());
        }
    }

    /** Rows {@code from .. from + count} of this matrix. */
    public Matrix rows(int from, int count) {
        return new Matrix(tensor, firstRow + from, count, cols);
    }

    /** Flat element index of (row, 0). */
    long rowStart(int row) {
        return (long) (firstRow + row) * cols;
    }

    public String describe() {
        return tensor.name() + "[" + firstRow + ".." + (firstRow + rows) + ", " + cols + "]";
    }
}
