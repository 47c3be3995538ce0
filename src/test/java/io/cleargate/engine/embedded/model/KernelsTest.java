package io.cleargate.engine.embedded.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The Vector API kernels agree with the scalar fallback beside them, for every dtype and odd lengths. */
class KernelsTest {

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
            for (DType dtype : DType.values()) {
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
}
