package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cleargate.engine.embedded.model.Model;
import io.cleargate.engine.embedded.model.Session;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The acceptance test of the engine: logits at every prompt position and the greedy continuation
 * must match Hugging Face transformers on the checkpoints transformers itself wrote.
 * v3-tiny: q_lora, sigmoid routing with bias, 4 groups keep 2, norm_topk_prob, scaling 2.5, YaRN
 * with mscale != mscale_all_dim. v2-lite-tiny (sharded): full q_proj, softmax greedy routing,
 * no renormalisation, YaRN mscale 0.707. v3-fp8-tiny (sharded, DeepSeek-V3's FP8 release format with
 * 128x128 blocks, edge blocks included): transformers in float32 on the dequantized weights.
 */
class ModelParityTest {

    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"})
    void absorbedLogitsMatchTransformersAtEveryPosition(String name) {
        assertLogitsMatch(name, Session.Form.ABSORBED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"})
    void naiveLogitsMatchTransformersAtEveryPosition(String name) {
        assertLogitsMatch(name, Session.Form.NAIVE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"})
    void greedyContinuationOf32TokensIsIdentical(String name) {
        JsonNode f = Fixtures.fixture(name);
        List<Integer> prompt = Fixtures.ints(f.path("prompt_ids"));
        List<Integer> expected = Fixtures.ints(f.path("greedy_ids"));
        assertEquals(32, expected.size());
        try (Model model = Model.load(Fixtures.model(name))) {
            for (Session.Form form : Session.Form.values()) {
                Session s = model.newSession(prompt.size() + 32, form);
                assertEquals(expected, Generator.greedy(model, s, prompt, 32), form + " greedy ids");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"})
    void absorbedAndNaiveFormsAgreeWhileDecoding(String name) {
        List<Integer> prompt = Fixtures.ints(Fixtures.fixture(name).path("prompt_ids"));
        try (Model model = Model.load(Fixtures.model(name))) {
            Session absorbed = model.newSession(prompt.size(), Session.Form.ABSORBED);
            Session naive = model.newSession(prompt.size(), Session.Form.NAIVE);
            for (int token : prompt) {
                float[] a = model.forward(absorbed, token, true).clone();
                float[] b = model.forward(naive, token, true);
                assertTrue(maxAbsDiff(a, b) <= 1e-5, "absorbed vs naive at position " + (absorbed.length() - 1));
            }
            var c = model.config();
            long positions = (long) prompt.size() * c.numLayers() * Float.BYTES;
            assertEquals(positions * (c.kvLoraRank() + c.qkRopeHeadDim()), absorbed.cacheBytes(), "latent + rope key per token");
            assertEquals(positions * c.numHeads() * (c.qkHeadDim() + c.vHeadDim()), naive.cacheBytes(), "per-head keys and values");
            assertTrue(absorbed.cacheBytes() < naive.cacheBytes());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"})
    void batchedPrefillLogitsMatchTransformersAtEveryPosition(String name) {
        JsonNode f = Fixtures.fixture(name);
        int[] prompt = Fixtures.ints(f.path("prompt_ids")).stream().mapToInt(Integer::intValue).toArray();
        int split = 5; // a first batch, then a second one that attends to the first one's cache
        try (Model model = Model.load(Fixtures.model(name))) {
            Session s = model.newSession(prompt.length, Session.Form.ABSORBED);
            float[][] first = model.logitsAt(s, java.util.Arrays.copyOfRange(prompt, 0, split));
            float[][] rest = model.logitsAt(s, java.util.Arrays.copyOfRange(prompt, split, prompt.length));
            for (int pos = 0; pos < prompt.length; pos++) {
                float[] logits = pos < split ? first[pos] : rest[pos - split];
                assertClose(name + " batched", f.path("logits").get(pos), logits, pos);
            }
            assertEquals(prompt.length, s.length());
        }
    }

    private static void assertClose(String what, JsonNode row, float[] logits, int pos) {
        assertEquals(row.size(), logits.length, "vocabulary size");
        double worst = 0;
        for (int v = 0; v < logits.length; v++) {
            worst = Math.max(worst, Math.abs(logits[v] - row.get(v).asDouble()));
        }
        double w = worst;
        assertTrue(worst <= TOLERANCE, () -> what + " position " + pos + ": max abs diff " + w);
    }

    private static void assertLogitsMatch(String name, Session.Form form) {
        JsonNode f = Fixtures.fixture(name);
        List<Integer> prompt = Fixtures.ints(f.path("prompt_ids"));
        assertTrue(prompt.size() >= 16, "prompt long enough that positions beyond the first are checked");
        try (Model model = Model.load(Fixtures.model(name))) {
            Session s = model.newSession(prompt.size(), form);
            for (int pos = 0; pos < prompt.size(); pos++) {
                float[] logits = model.forward(s, prompt.get(pos), true);
                JsonNode row = f.path("logits").get(pos);
                assertEquals(row.size(), logits.length, "vocabulary size");
                double worst = 0;
                for (int v = 0; v < logits.length; v++) {
                    worst = Math.max(worst, Math.abs(logits[v] - row.get(v).asDouble()));
                }
                int p = pos;
                double w = worst;
                assertTrue(worst <= TOLERANCE, () -> name + " " + form + " position " + p + ": max abs diff " + w);
            }
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
