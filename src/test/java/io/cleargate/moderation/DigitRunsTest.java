package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The digit runs every number detector walks are found four chars at a time ({@link DigitRuns#of});
 * they must be the runs a char-by-char loop finds, whatever stands around them: chars whose low
 * byte is a digit's, chars just outside '0' to '9', non-ASCII digits (which are no ASCII digits).
 */
class DigitRunsTest {

    private static final String CHARS = "0123456789/:aZ \n.-\u0130\u0131\u0230\u3031\u8039\uff10\uffff\u0660\u00b2\u2070";

    @Test
    void theRunsFoundFourCharsAtATimeAreTheRunsFoundCharByChar() {
        var random = new Random(4041);
        int runs = 0;
        for (int round = 0; round < 20_000; round++) {
            var sb = new StringBuilder();
            for (int k = random.nextInt(40); k > 0; k--) {
                boolean digitRun = random.nextInt(3) == 0;
                for (int r = 1 + random.nextInt(6); r > 0; r--) {
                    sb.append(digitRun ? (char) ('0' + random.nextInt(10)) : CHARS.charAt(random.nextInt(CHARS.length())));
                }
            }
            String text = sb.toString();
            char[] padded = java.util.Arrays.copyOf(text.toCharArray(), text.length() + random.nextInt(5));
            java.util.Arrays.fill(padded, text.length(), padded.length, '7'); // digits past the end are not the text's
            DigitRuns found = DigitRuns.of(padded, text.length());
            var expected = DigitRuns.byChar(text);
            assertEquals(expected.size(), found.count(), text);
            for (int k = 0; k < expected.size(); k++) {
                assertEquals(expected.get(k)[0], found.start(k), text);
                assertEquals(expected.get(k)[1], found.end(k), text);
            }
            runs += expected.size();
        }
        assertTrue(runs > 50_000, "only " + runs + " runs were compared");
    }

    @Test
    void eachLaneOfFourCharsIsADigitExactlyWhenItsCharIsOneOfZeroToNine() {
        for (int c = 0; c <= 0xFFFF; c++) {
            long four = (long) c | (long) ('x') << 16 | (long) (c ^ 0x8000) << 32 | (long) ('5') << 48;
            long lanes = DigitRuns.digitLanes(four);
            boolean digit = c >= '0' && c <= '9';
            assertEquals(digit, (lanes & 0x8000L) != 0, "char " + Integer.toHexString(c));
            assertEquals(0, lanes & 0x8000_0000L, "'x' next to " + Integer.toHexString(c));
            int flipped = c ^ 0x8000;
            assertEquals(flipped >= '0' && flipped <= '9', (lanes & 0x8000_0000_0000L) != 0, "char " + Integer.toHexString(flipped));
            assertTrue((lanes & 0x8000_0000_0000_0000L) != 0, "'5' next to " + Integer.toHexString(c));
        }
    }
}
