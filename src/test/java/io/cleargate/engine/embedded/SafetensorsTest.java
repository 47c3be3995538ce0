package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.engine.embedded.model.Checkpoint;
import io.cleargate.engine.embedded.model.DType;
import io.cleargate.engine.embedded.model.Kernels;
import io.cleargate.engine.embedded.model.Matrix;
import io.cleargate.engine.embedded.model.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint reading: dtypes decoded as torch converts them, sharded indexes, malformed files. */
class SafetensorsTest {

    @Test
    void halfAndBfloat16DecodeToTheValuesTorchWrote() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.BASE.resolve("dtypes-dir"))) {
            for (String name : new String[] {"a_f16", "a_bf16", "m_f16", "m_bf16"}) {
                Tensor t = ckpt.get(name);
                Tensor reference = ckpt.get(name + "_as_f32");
                assertEquals(name.contains("bf16") ? DType.BF16 : DType.F16, t.dtype());
                assertEquals(reference.elementCount(), t.elementCount());
                for (long i = 0; i < t.elementCount(); i++) {
                    assertEquals(reference.get(i), t.get(i), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void copiedWeightsHoldTheFilesBytesEachFromACacheLineBoundary() {
        Path dir = Fixtures.BASE.resolve("dtypes-dir");
        try (Checkpoint mapped = Checkpoint.open(dir, false); Checkpoint copied = Checkpoint.open(dir, true)) {
            assertEquals(mapped.names(), copied.names());
            assertTrue(mapped.names().size() > 4);
            for (String name : mapped.names()) {
                Tensor m = mapped.get(name);
                Tensor c = copied.get(name);
                assertEquals(m.dtype(), c.dtype(), name);
                org.junit.jupiter.api.Assertions.assertArrayEquals(m.shape(), c.shape(), name);
                assertEquals(-1L, m.data().mismatch(c.data()), name + ": copied bytes differ from the file's");
                assertEquals(0L, c.data().address() % 64, name + " copied off a 64-byte boundary");
            }
        }
    }

    @Test
    void vectorAndScalarProductsAgreeOnBfloat16Rows() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.BASE.resolve("dtypes-dir"))) {
            Matrix bf16 = ckpt.get("m_bf16").asMatrix();
            Matrix f32 = ckpt.get("m_bf16_as_f32").asMatrix();
            float[] x = new float[bf16.cols()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i + 1);
            }
            float[] a = new float[bf16.rows()];
            float[] b = new float[bf16.rows()];
            Kernels.matvec(bf16, x, a);
            Kernels.matvec(f32, x, b);
            for (int r = 0; r < a.length; r++) {
                assertEquals(b[r], a[r], 1e-5);
            }
            for (int r = 0; r < bf16.rows(); r++) {
                float[] viaBf16 = x.clone();
                float[] viaF32 = x.clone();
                Kernels.axpyRow(bf16, r, 0.75f, viaBf16, 0);
                Kernels.axpyRow(f32, r, 0.75f, viaF32, 0);
                org.junit.jupiter.api.Assertions.assertArrayEquals(viaF32, viaBf16, 0f, "axpy of bf16 row " + r);
            }
        }
    }

    @Test
    void shardedCheckpointLoadsEveryTensorTheIndexNames() throws Exception {
        Path dir = Fixtures.model("v2-lite-tiny");
        var index = new ObjectMapper().readTree(Files.readString(dir.resolve("model.safetensors.index.json")));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(index.path("weight_map").size(), ckpt.names().size());
            index.path("weight_map").fieldNames().forEachRemaining(n -> assertTrue(ckpt.find(n).isPresent(), n));
        }
    }

    @Test
    void everyFp8CodeDecodesToTheValueTorchGivesIt() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.BASE.resolve("fp8-dir"))) {
            Tensor codes = ckpt.get("codes");
            Tensor reference = ckpt.get("codes_as_f32");
            assertEquals(DType.F8_E4M3, codes.dtype());
            assertEquals(256, codes.elementCount());
            for (int b = 0; b < 256; b++) {
                assertEquals(reference.get(b), codes.get(b), "code 0x" + Integer.toHexString(b));
            }
            assertTrue(Float.isNaN(codes.get(0x7F)) && Float.isNaN(codes.get(0xFF)), "only S.1111.111 is NaN");
            assertEquals(448f, codes.get(0x7E), "largest finite value");
            assertEquals(0x1p-9f, codes.get(0x01), "smallest subnormal");
        }
    }

    @Test
    void tensorOfAnUnsupportedDtypeIsRefusedByNameDtypeAndFile() {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.BASE.resolve("fp8-dir"))) {
            assertTrue(ckpt.names().contains("steps"), "unreadable tensors are still listed");
            for (String[] c : new String[][] {{"steps", "I64"}, {"e5m2", "F8_E5M2"}}) {
                var e = assertThrows(IllegalArgumentException.class, () -> ckpt.get(c[0]));
                assertTrue(e.getMessage().contains("tensor " + c[0]) && e.getMessage().contains(c[1])
                        && e.getMessage().contains("codes.safetensors"), e.getMessage());
            }
        }
    }

    @Test
    void truncatedFileIsRejected(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("model.safetensors"), new byte[] {(byte) 0xFF, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir));
    }
}
