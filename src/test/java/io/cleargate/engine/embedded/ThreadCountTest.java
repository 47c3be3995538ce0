package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.engine.embedded.model.Model;
import io.cleargate.engine.embedded.model.Session;
import io.cleargate.engine.embedded.model.Team;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The team splits every step of the forward pass statically, and a row, a head or a token is always
 * computed whole by one member with the same operations: one, two or three threads give the same
 * logits and the same greedy tokens, for batched prefill and for decoding, on every fixture
 * checkpoint and in the int8 mode. "The same" is within {@link #TOLERANCE}, not to the bit: the
 * Vector API leaves the order of a float lane reduction open, and code the JIT has not compiled
 * yet sums the lanes in another order than compiled code (a last-bit difference, seen here).
 */
class ThreadCountTest {

    /** A tenth of the parity tolerance against transformers. */
    private static final float TOLERANCE = 1e-5f;

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"})
    void logitsAndGreedyTokensDoNotDependOnTheNumberOfThreads(String name) {
        List<Integer> prompt = Fixtures.ints(Fixtures.fixture(name).path("prompt_ids"));
        int[] ids = prompt.stream().mapToInt(Integer::intValue).toArray();
        Run one = run(name, Model.WeightMode.AS_STORED, 1, ids);
        for (int threads : new int[] {2, 3}) {
            Run many = run(name, Model.WeightMode.AS_STORED, threads, ids);
            for (int pos = 0; pos < ids.length; pos++) {
                assertArrayEquals(one.prefill[pos], many.prefill[pos], TOLERANCE, name + " prefill position " + pos + ", " + threads + " threads");
            }
            for (int i = 0; i < one.decode.length; i++) {
                assertArrayEquals(one.decode[i], many.decode[i], TOLERANCE, name + " decode step " + i + ", " + threads + " threads");
            }
            assertEquals(one.greedy, many.greedy, name + " greedy tokens, " + threads + " threads");
        }
        assertEquals(Fixtures.ints(Fixtures.fixture(name).path("greedy_ids")), one.greedy, "and they are transformers' tokens");
    }

    @ParameterizedTest
    @ValueSource(strings = {"v3-tiny", "v3-fp8-tiny"})
    void theInt8ModeGivesTheSameNumbersOnOneAndTwoThreads(String name) {
        int[] ids = Fixtures.ints(Fixtures.fixture(name).path("prompt_ids")).stream().mapToInt(Integer::intValue).toArray();
        Run one = run(name, Model.WeightMode.INT8, 1, ids);
        Run two = run(name, Model.WeightMode.INT8, 2, ids);
        for (int pos = 0; pos < ids.length; pos++) {
            assertArrayEquals(one.prefill[pos], two.prefill[pos], TOLERANCE, name + " int8 prefill position " + pos);
        }
        assertEquals(one.greedy, two.greedy);
    }

    /** Logits of a batched prefill, of token-by-token decoding, and a greedy continuation of 32 tokens. */
    private record Run(float[][] prefill, float[][] decode, List<Integer> greedy) {}

    private static Run run(String name, Model.WeightMode mode, int threads, int[] ids) {
        try (Team team = new Team(threads); Model model = Model.load(Fixtures.model(name), mode, team)) {
            float[][] prefill = model.logitsAt(model.newSession(ids.length, Session.Form.ABSORBED), ids);
            Session s = model.newSession(ids.length, Session.Form.ABSORBED);
            float[][] decode = new float[ids.length][];
            for (int i = 0; i < ids.length; i++) {
                decode[i] = model.forward(s, ids[i], true).clone();
            }
            List<Integer> prompt = java.util.Arrays.stream(ids).boxed().toList();
            List<Integer> greedy = Generator.greedy(model, model.newSession(ids.length + 32, Session.Form.ABSORBED), prompt, 32);
            assertTrue(greedy.size() == 32);
            return new Run(prefill, decode, greedy);
        }
    }
}
