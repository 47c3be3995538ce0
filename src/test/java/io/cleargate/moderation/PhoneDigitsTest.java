package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The phone detector skips libphonenumber for candidates with too few digits for the region
 * ({@link PhoneDetector#tooFewDigits}); every number it skips must be one libphonenumber calls
 * invalid, in every region a profile may name, or a phone number would go undetected.
 */
class PhoneDigitsTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final List<String> LEADS = List.of("", "", "", "0", "00", "011", "1", "01", "0011", "810", "44", "49", "33",
            "91", "55", "0049", "00 44", "(0)", "1-", "9", "8", "7");
    private static final String SEPARATORS = " -./";

    /** A string shaped like the detector's candidates: maybe "(", leading digits, digit groups with separators. */
    private static String candidate(Random random) {
        var sb = new StringBuilder();
        if (random.nextInt(5) == 0) {
            sb.append('(');
        }
        sb.append(LEADS.get(random.nextInt(LEADS.size())));
        int groups = 1 + random.nextInt(4);
        for (int g = 0; g < groups; g++) {
            if (!sb.isEmpty() && !sb.toString().endsWith("(")) {
                sb.append(random.nextInt(6) == 0 ? ") " : String.valueOf(SEPARATORS.charAt(random.nextInt(SEPARATORS.length()))));
            }
            for (int k = 1 + random.nextInt(5); k > 0; k--) {
                sb.append((char) ('0' + random.nextInt(10)));
            }
        }
        return sb.toString();
    }

    private static boolean valid(String raw, String region) {
        try {
            return UTIL.isValidNumber(UTIL.parse(raw, region));
        } catch (NumberParseException notANumber) {
            return false;
        }
    }

    private static int assertSkipsOnlyInvalid(String region, int rounds, Random random) {
        int skipped = 0;
        for (int round = 0; round < rounds; round++) {
            String raw = candidate(random);
            if (PhoneDetector.tooFewDigits(raw, region)) {
                assertFalse(valid(raw, region), () -> "'" + raw + "' is a valid number in " + region + " but was skipped");
                skipped++;
            }
        }
        return skipped;
    }

    @Test
    void everyCandidateSkippedForTooFewDigitsIsInvalidInTheProfilesRegions() {
        var random = new Random(2026);
        for (String region : List.of("US", "GB", "DE", "FR", "ES", "IT", "IN", "BR")) {
            int skipped = assertSkipsOnlyInvalid(region, 4000, random);
            // Brazil rewrites its national prefix, so no bound is drawn there
            assertTrue(skipped > 0 || region.equals("BR"), () -> "nothing was skipped in " + region + ": the test does not exercise the bound");
        }
    }

    @Test
    void everyCandidateSkippedForTooFewDigitsIsInvalidInEverySupportedRegion() {
        var random = new Random(2027);
        for (String region : UTIL.getSupportedRegions()) {
            assertSkipsOnlyInvalid(region, 300, random);
        }
    }

    @Test
    void shortNumbersAreSkippedAndRealOnesAreNot() {
        assertTrue(PhoneDetector.tooFewDigits("2024-01", "US"));
        assertFalse(PhoneDetector.tooFewDigits("(305) 511-0715", "US"));
        assertFalse(PhoneDetector.tooFewDigits("+49 30 1234", "US"), "a number with a country code is left to libphonenumber");
        assertFalse(PhoneDetector.tooFewDigits("011 44 20", "US"), "a number after the IDD prefix is left to libphonenumber");
    }
}
