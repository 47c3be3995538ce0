package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cleargate.domain.ToolCall;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChoiceUsageSplitTest {

    @Test
    void completionTokensAreSplitInProportionToWhatEachChoiceReleasedAndAddUpExactly() {
        assertArrayEquals(new long[] {5, 5}, Recorder.splitInProportion(10, new long[] {21, 25}),
                "4.57 and 5.43: the larger remainder takes the token left over");
        assertArrayEquals(new long[] {1, 9}, Recorder.splitInProportion(10, new long[] {1, 9}));
        assertArrayEquals(new long[] {0, 0}, Recorder.splitInProportion(0, new long[] {3, 4}));
        var random = new Random(15);
        for (int run = 0; run < 200; run++) {
            long[] weights = new long[1 + random.nextInt(8)];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = random.nextInt(3) == 0 ? 0 : random.nextInt(5000);
            }
            long total = random.nextInt(100_000);
            long[] parts = Recorder.splitInProportion(total, weights);
            assertEquals(total, java.util.Arrays.stream(parts).sum(), java.util.Arrays.toString(weights));
        }
    }

    @Test
    void choicesThatReleasedNothingShareEqually() {
        assertArrayEquals(new long[] {3, 2, 2}, Recorder.splitInProportion(7, new long[] {0, 0, 0}));
    }

    @Test
    void theRecordSaysItIsAnEstimateAndCountsToolCallArguments() {
        var choices = List.of(new Recorder.ReleasedChoice(0, "abcd", List.of(), "stop"),
                new Recorder.ReleasedChoice(1, "", List.of(new ToolCall("c1", "f", "{\"q\":\"abcdefghijkl\"}")), "tool_calls"));
        Map<String, Object> usage = Recorder.choiceUsage(24, choices);
        assertEquals(true, usage.get("estimated"));
        assertEquals("released_characters", usage.get("basis"));
        assertEquals(List.of(Map.of("index", 0, "completion_tokens", 4L), Map.of("index", 1, "completion_tokens", 20L)),
                usage.get("choices"), "4 and 20 characters");
    }
}
