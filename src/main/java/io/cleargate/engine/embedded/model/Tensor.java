package io.cleargate.engine.embedded.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A checkpoint tensor: a view of memory-mapped file bytes, never copied onto the heap. Matrices are
 * stored row-major as {@code [out, in]}, the layout of a PyTorch Linear weight.
 *
 * @param file the file the tensor was read from, for error messages ("" when it was built in memory)
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data, String file) {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this(name, dtype, shape, data, "");
    }

    public Tensor {
        shape = shape.clone();
        long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        if (data.byteSize() != count * dtype.bytes()) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.byteSize() + " bytes do not match shape "
                    + Arrays.toString(shape) + " of " + dtype);
        }
    }

    public long elementCount() {
        return data.byteSize() / dtype.bytes();
    }

    /**
     * Reads element {@code i} (flat index) as a float, whatever the stored type. An FP8 element is
     * read without its block scale: only kernels that know the scale read FP8 tensors.
     */
    public float get(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32, i * 4);
            case F16 -> Float.float16ToFloat(data.get(I16, i * 2));
            case BF16 -> Float.intBitsToFloat(data.get(I16, i * 2) << 16);
            case F8_E4M3 -> Fp8.decode(data.get(ValueLayout.JAVA_BYTE, i));
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
        };
    }

    /** Copies {@code n} elements from flat index {@code from} into {@code out} (for small vectors: norms, biases, one embedding row). */
    public float[] read(long from, int n, float[] out) {
        return read(from, n, out, 0);
    }

    /** Copies {@code n} elements from flat index {@code from} into {@code out[outOff ..]}. */
    public float[] read(long from, int n, float[] out, int outOff) {
        for (int i = 0; i < n; i++) {
            out[outOff + i] = get(from + i);
        }
        return out;
    }

    public float[] toFloatArray() {
        return read(0, Math.toIntExact(elementCount()), new float[Math.toIntExact(elementCount())]);
    }

    /** The whole tensor viewed as a matrix {@code [rows, cols]} (3-D tensors flatten their leading axes). */
    public Matrix asMatrix() {
        return asMatrix(null);
    }

    /** The whole 2-D tensor as a matrix with FP8 block scales (null for unquantized dtypes). */
    public Matrix asMatrix(BlockScale scale) {
        if (scale != null) {
            scale.requireFits(this);
        }
        long cols = shape[shape.length - 1];
        return new Matrix(this, 0, Math.toIntExact(elementCount() / cols), Math.toIntExact(cols), scale);
    }

    public String describe() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    /** The description plus the file, for errors about what a checkpoint holds. */
    public String describeWithFile() {
        return file.isEmpty() ? describe() : describe() + " in " + file;
    }

    @Override
    public String toString() {
        return "Tensor[" + describe() + "]";
    }
}
