package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cleargate.engine.embedded.model.Checkpoint;
import io.cleargate.engine.embedded.model.DType;
import io.cleargate.engine.embedded.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DeepSeek-V3's FP8 release format as the fixture maker writes it (make_fp8_checkpoint.py): linear
 * weights F8_E4M3 with a weight_scale_inv per 128x128 block, everything else as released, sharded
 * with the scales in a shard of their own. Parity with transformers is in {@link ModelParityTest}.
 */
class Fp8CheckpointTest {

    private static final Path FP8 = Fixtures.model("v3-fp8-tiny");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void linearWeightsStayFp8AndEverythingElseKeepsItsDtype() {
        try (Checkpoint ckpt = Checkpoint.open(FP8)) {
            assertEquals(DType.F8_E4M3, ckpt.get("model.layers.1.self_attn.kv_b_proj.weight").dtype());
            assertEquals(DType.F8_E4M3, ckpt.get("model.layers.2.mlp.experts.3.down_proj.weight").dtype());
            assertEquals(DType.F32, ckpt.get("model.layers.1.self_attn.kv_b_proj.weight_scale_inv").dtype());
            assertEquals(DType.F32, ckpt.get("model.layers.1.mlp.gate.weight").dtype(), "the router gate is not quantized");
            assertEquals(DType.F32, ckpt.get("lm_head.weight").dtype());
        }
        try (Model model = Model.load(FP8)) {
            assertTrue(model.config().quantization() != null);
            assertEquals(128, model.config().quantization().blockRows());
        }
    }

    @Test
    void modelWeightsReadPerTokenAreAQuarterOfTheirF32Size() {
        try (Model model = Model.load(FP8)) {
            long fp8 = model.activeWeightBytes(false);
            long asF32 = model.activeWeightBytes(true);
            assertTrue(fp8 < asF32 / 2, "FP8 weights stay one byte each: " + fp8 + " vs " + asF32);
        }
    }

    @Test
    void fp8WeightWithoutItsScaleIsRefusedNamingTensorAndFile(@TempDir Path dir) throws IOException {
        copy(FP8, dir);
        Path index = dir.resolve("model.safetensors.index.json");
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readString(index));
        ObjectNode map = (ObjectNode) root.path("weight_map");
        String scaleShard = map.path("model.layers.0.self_attn.o_proj.weight_scale_inv").asText();
        var scales = new java.util.ArrayList<String>();
        map.properties().forEach(e -> {
            if (e.getValue().asText().equals(scaleShard)) {
                scales.add(e.getKey());
            }
        });
        map.remove(scales);
        Files.writeString(index, root.toString());
        Files.delete(dir.resolve(scaleShard));
        var e = assertThrows(IllegalArgumentException.class, () -> Model.load(dir));
        assertTrue(e.getMessage().contains("_scale_inv") && e.getMessage().contains("F8_E4M3")
                && e.getMessage().contains(".safetensors"), e.getMessage());
    }

    @Test
    void fp8WeightsWithoutQuantizationConfigAreRefused(@TempDir Path dir) throws IOException {
        copy(FP8, dir);
        ObjectNode config = (ObjectNode) JSON.readTree(Files.readString(dir.resolve("config.json")));
        config.remove("quantization_config");
        Files.writeString(dir.resolve("config.json"), config.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> Model.load(dir));
        assertTrue(e.getMessage().contains("quantization_config") && e.getMessage().contains("F8_E4M3"), e.getMessage());
    }

    @Test
    void otherQuantizationMethodsAreRefused(@TempDir Path dir) throws IOException {
        copy(FP8, dir);
        ObjectNode config = (ObjectNode) JSON.readTree(Files.readString(dir.resolve("config.json")));
        ((ObjectNode) config.path("quantization_config")).put("quant_method", "awq");
        Files.writeString(dir.resolve("config.json"), config.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> Model.load(dir));
        assertTrue(e.getMessage().contains("awq"), e.getMessage());
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
