package io.cleargate.engine.embedded.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A checkpoint tensor: a view of memory-mapped file bytes, never copied onto the heap. Matrices are
 * stored row-major as {@code [out, in]}, the layout of a PyTorch Linear weight.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

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

    /** Reads element {@code i} (flat index) as a float, whatever the stored type. */
    public float get(long i) {
        return switch (dtype) {
            case F32 -> data.get(F32, i * 4);
            case F16 -> Float.float16ToFloat(data.get(I16, i * 2));
            case BF16 -> Float.intBitsToFloat(data.get(I16, i * 2) << 16);
        };
    }

    /** Copies {@code n} elements from flat index {@code from} into {@code out} (for small vectors: norms, biases, one embedding row). */
    public float[] read(long from, int n, float[] out) {
        for (int i = 0; i < n; i++) {
            out[i] = get(from + i);
        }
        return out;
    }

    public float[] toFloatArray() {
        return read(0, Math.toIntExact(elementCount()), new float[Math.toIntExact(elementCount())]);
    }

    /** The whole tensor viewed as a matrix {@code [rows, cols]} (3-D tensors flatten their leading axes). */
    public Matrix asMatrix() {
        long cols = shape[shape.length - 1];
        return new Matrix(this, 0, Math.toIntExact(elementCount() / cols), Math.toIntExact(cols));
    }

    public String describe() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return "Tensor[" + describe() + "]";
    }
}
