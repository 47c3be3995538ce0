package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.engine.embedded.model.Model;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The optional int8 weight-only mode: one byte per weight in memory, and a quality cost that is
 * small and measured (perplexity on the fixture prompt and top-1 agreement against the weights as
 * stored), never assumed zero.
 */
class Int8WeightsTest {

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v3-fp8-tiny"})
    void int8WeightsTakeOneBytePerWeightAndCostLittlePerplexity(String name) {
        List<Integer> prompt = Fixtures.ints(Fixtures.fixture(name).path("prompt_ids"));
        int[] ids = prompt.stream().mapToInt(Integer::intValue).toArray();
        try (Model stored = Model.load(Fixtures.model(name)); Model int8 = Model.load(Fixtures.model(name), Model.WeightMode.INT8)) {
            long asF32 = stored.activeWeightBytes(true);
            long q = int8.activeWeightBytes(false);
            assertTrue(q < asF32 * 0.4, "int8 layers read about a quarter of f32 (lm_head stays as stored): " + q + " vs " + asF32);
            Perplexity.Comparison c = Perplexity.compare(stored, int8, ids);
            double ratio = c.candidate() / c.reference();
            assertTrue(ratio > 0.97 && ratio < 1.03, name + ": perplexity " + c.reference() + " -> " + c.candidate());
            assertTrue(ratio != 1.0, "requantized weights change the logits a little");
            assertTrue(c.top1Agreement() >= 0.9, name + ": top-1 agreement " + c.top1Agreement());
            // KL in nats of the next-token distributions: 0.01 is a shift far below what changes sampled text.
            assertTrue(c.meanKl() > 0 && c.meanKl() < 0.01, name + ": mean KL " + c.meanKl());
        }
    }
}
