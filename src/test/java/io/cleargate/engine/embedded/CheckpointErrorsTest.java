package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cleargate.engine.embedded.model.Model;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the engine cannot serve is refused when the model loads, and the message names the tensor, its
 * dtype and the file it is in, so that an operator can find it without a debugger.
 */
class CheckpointErrorsTest {

    private static final String NORM = "model.layers.0.input_layernorm.weight";

    @Test
    void modelWeightOfAnUnsupportedDtypeIsRefusedNamingTensorDtypeAndFile(@TempDir Path dir) throws IOException {
        copy(Fixtures.model("v3-tiny"), dir);
        // Same width, other dtype: the header is rewritten in place, so every offset stays valid.
        retypeInHeader(dir.resolve("model.safetensors"), NORM, "F32", "I32");
        var e = assertThrows(IllegalArgumentException.class, () -> Model.load(dir));
        assertNames(e, NORM, "I32", "model.safetensors");
    }

    @Test
    void weightWhoseShapeDoesNotMatchTheConfigIsRefusedNamingTensorDtypeAndFile(@TempDir Path dir) throws IOException {
        copy(Fixtures.model("v3-tiny"), dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(Files.readString(dir.resolve("config.json")));
        config.put("intermediate_size", config.path("intermediate_size").asInt() * 2);
        Files.writeString(dir.resolve("config.json"), config.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> Model.load(dir));
        assertNames(e, "model.layers.0.mlp.gate_proj.weight", "F32", "model.safetensors");
    }

    @Test
    void bf16WeightOfTheWrongShapeIsRefusedNamingTensorDtypeAndFile(@TempDir Path dir) throws IOException {
        copy(Fixtures.model("v3-bf16-tiny"), dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(Files.readString(dir.resolve("config.json")));
        config.put("kv_lora_rank", config.path("kv_lora_rank").asInt() + 1);
        Files.writeString(dir.resolve("config.json"), config.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> Model.load(dir));
        assertNames(e, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight", "BF16", ".safetensors");
    }

    private static void assertNames(IllegalArgumentException e, String tensor, String dtype, String file) {
        String m = e.getMessage();
        assertTrue(m.contains(tensor) && m.contains(dtype) && m.contains(file), m);
    }

    private static void retypeInHeader(Path file, String tensor, String from, String to) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String needle = "\"" + tensor + "\":{\"dtype\":\"" + from + "\"";
        String header = new String(bytes, 8, 64 * 1024, StandardCharsets.ISO_8859_1);
        int at = header.indexOf(needle);
        assertTrue(at > 0 && from.length() == to.length(), "fixture header holds " + needle);
        byte[] replacement = ("\"" + tensor + "\":{\"dtype\":\"" + to + "\"").getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(replacement, 0, bytes, 8 + at, replacement.length);
        Files.write(file, bytes);
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
