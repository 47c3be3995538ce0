package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The digit runs found without a branch per char are the maximal runs of ASCII digits, on texts
 * of every length around the pass's block size, runs at either end and across blocks included.
 */
class DigitRunsTest {

    /** The runs as [start, end) pairs, char by char. */
    private static List<Integer> expected(char[] t, int n) {
        List<Integer> bounds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean digit = t[i] >= '0' && t[i] <= '9';
            boolean before = i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9';
            if (digit != before) {
                bounds.add(i);
            }
        }
        if (n > 0 && t[n - 1] >= '0' && t[n - 1] <= '9') {
            bounds.add(n);
        }
        return bounds;
    }

    private static List<Integer> found(DigitRuns runs) {
        List<Integer> bounds = new ArrayList<>();
        for (int k = 0; k < runs.count(); k++) {
            bounds.add(runs.start(k));
            bounds.add(runs.end(k));
        }
        return bounds;
    }

    @Test
    void findsEveryMaximalRunOfAsciiDigitsOnRandomTexts() {
        var random = new Random(14);
        String alphabet = "0123456789 a-./:\u0660\uFF11\u00e9";
        int runs = 0;
        for (int round = 0; round < 3000; round++) {
            int length = switch (round % 4) {
                case 0 -> random.nextInt(40);
                case 1 -> 500 + random.nextInt(30); // around the block size
                case 2 -> 1020 + random.nextInt(10);
                default -> random.nextInt(3000);
            };
            double digits = random.nextDouble(); // from no digit at all to nearly all
            char[] t = new char[length + random.nextInt(3)]; // the view's array may be longer than the view
            for (int i = 0; i < t.length; i++) {
                t[i] = random.nextDouble() < digits ? (char) ('0' + random.nextInt(10))
                        : alphabet.charAt(10 + random.nextInt(alphabet.length() - 10));
            }
            List<Integer> expected = expected(t, length);
            assertEquals(expected, found(DigitRuns.of(t, length)), "length " + length);
            assertEquals(expected, found(DigitRuns.of(new String(t, 0, length))), "length " + length);
            runs += expected.size() / 2;
        }
        assertTrue(runs > 100_000, "runs met: " + runs);
    }

    @Test
    void aTextOfDigitsIsOneRunAndATextWithoutIsNone() {
        assertEquals(List.of(0, 1500), found(DigitRuns.of("7".repeat(1500))));
        assertEquals(List.of(), found(DigitRuns.of("x".repeat(1500))));
        assertEquals(List.of(), found(DigitRuns.of("")));
        assertEquals(List.of(1, 3, 4, 5), found(DigitRuns.of("a12b3")));
    }
}
