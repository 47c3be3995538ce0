package io.cleargate.engine.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reference outputs written by src/test/python/make_engine_fixtures.py (transformers 5.24, torch 2.15). */
final class Fixtures {

    static final Path BASE = Path.of("src/test/resources/engine");

    private Fixtures() {}

    static Path model(String name) {
        return BASE.resolve(name);
    }

    static JsonNode fixture(String name) {
        try {
            return new ObjectMapper().readTree(Files.readString(BASE.resolve(name + ".fixture.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }
}
