package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The phone detector skips libphonenumber for candidates with too few or too many digits for the region
 * ({@link PhoneDetector#digitCountRulesOut}); every number it skips must be one libphonenumber calls
 * invalid, in every region a profile may name, or a phone number would go undetected. It answers
 * others from their digits without libphonenumber's parse ({@link PhoneDetector#validFromDigits});
 * every such answer must be the one parse and isValidNumber give.
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

    /** Either a formatted candidate or a bare run of 6 to 17 digits not starting with 0 (what is answered from its digits). */
    private static String anyCandidate(Random random) {
        if (random.nextBoolean()) {
            return candidate(random);
        }
        var sb = new StringBuilder().append((char) ('1' + random.nextInt(9)));
        for (int k = 5 + random.nextInt(12); k > 0; k--) {
            sb.append((char) ('0' + random.nextInt(10)));
            if (random.nextInt(8) == 0) {
                sb.append(SEPARATORS.charAt(random.nextInt(SEPARATORS.length())));
            }
        }
        return random.nextInt(6) == 0 ? "(" + sb : sb.toString().replaceAll("[^0-9]$", "");
    }

    /** Asserts every answer from digits is libphonenumber's; returns how many candidates were answered so. */
    private static int assertDirectAnswersAreLibphonenumbers(String region, int rounds, Random random) {
        int answered = 0;
        for (int round = 0; round < rounds; round++) {
            String raw = anyCandidate(random);
            Boolean direct = PhoneDetector.validFromDigits(PhoneDetector.digitsOf(raw), region);
            if (direct != null) {
                boolean expected = valid(raw, region);
                assertEquals(expected, direct, () -> "'" + raw + "' in " + region + ": libphonenumber says " + expected);
                answered++;
            }
        }
        return answered;
    }

    @Test
    void everyCandidateAnsweredFromItsDigitsGetsLibphonenumbersAnswerInTheProfilesRegions() {
        var random = new Random(2028);
        for (String region : List.of("US", "GB", "DE", "FR", "ES", "IT", "IN", "BR")) {
            int answered = assertDirectAnswersAreLibphonenumbers(region, 6000, random);
            assertTrue(answered > 1000, () -> "only " + answered + " of 6000 answered from digits in " + region);
        }
    }

    @Test
    void everyCandidateAnsweredFromItsDigitsGetsLibphonenumbersAnswerInEverySupportedRegion() {
        var random = new Random(2029);
        for (String region : UTIL.getSupportedRegions()) {
            assertDirectAnswersAreLibphonenumbers(region, 400, random);
        }
    }

    @Test
    void aNumberWithoutIddPrefixIsAnsweredAndOneWithItOrARewrittenPrefixIsLeftToLibphonenumber() {
        assertEquals(Boolean.TRUE, PhoneDetector.validFromDigits(PhoneDetector.digitsOf("(305) 511-0715"), "US"));
        assertEquals(Boolean.FALSE, PhoneDetector.validFromDigits("9999999999", "US"));
        assertEquals(valid("1 305 511 0715", "US"), PhoneDetector.validFromDigits("13055110715", "US"),
                "the country code 1 is taken off as parsing takes it off");
        assertEquals(valid("011 44 20 1234 567", "US"), PhoneDetector.validFromDigits("01144201234567", "US"),
                "the IDD prefix 011 is taken off as parsing takes it off, and the calling code after it");
        assertNull(PhoneDetector.validFromDigits("00144201234567", "BR"), "Brazil's IDD prefix is a pattern: parsed");
        assertNull(PhoneDetector.validFromDigits("0004420123456", "DE"), "a 0 after the IDD prefix 00: parsed");
        assertEquals(valid("030 123456", "DE"), PhoneDetector.validFromDigits("030123456", "DE"),
                "the national prefix 0 is stripped as parsing strips it");
        assertNull(PhoneDetector.validFromDigits("02111987654321", "BR"),
                "Brazil rewrites its national prefix with a carrier code after it: parsed");
        assertEquals(valid("021123456789", "BR"), PhoneDetector.validFromDigits("021123456789", "BR"),
                "without a carrier code and number the prefix is only stripped, as parsing strips it");
        assertEquals(Boolean.FALSE, PhoneDetector.validFromDigits("02079460958", "US"), "a trunk 0 is no US national prefix");
        assertEquals(valid("06 6982 1234", "IT"), PhoneDetector.validFromDigits("0669821234", "IT"),
                "Italy has no national prefix: its leading 0 is kept");
        assertEquals(valid("49 30 123456", "DE"), PhoneDetector.validFromDigits("4930123456", "DE"),
                "the country code 49 is taken off as parsing takes it off");
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
            if (PhoneDetector.digitCountRulesOut(raw, region)) {
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
    void numbersOfImpossibleLengthAreSkippedAndRealOnesAreNot() {
        assertTrue(PhoneDetector.digitCountRulesOut("2024-01", "US"));
        assertFalse(PhoneDetector.digitCountRulesOut("(305) 511-0715", "US"));
        assertFalse(PhoneDetector.digitCountRulesOut("+49 30 1234", "US"), "a number with a country code is left to libphonenumber");
        assertFalse(PhoneDetector.digitCountRulesOut("011 44 20", "US"), "a number after the IDD prefix is left to libphonenumber");
        assertTrue(PhoneDetector.digitCountRulesOut("99049549-3246", "US"), "twelve digits, no country code or prefix to remove");
        assertFalse(PhoneDetector.digitCountRulesOut("1 1 305 511 0715", "US"), "a country code and a national prefix may be removed");
        assertFalse(PhoneDetector.digitCountRulesOut("2024-01", "BR"), "Brazil rewrites its national prefix: no bound");
    }

    @Test
    void aRunTooLongToParseIsOneLibphonenumberRefusesInEverySupportedRegion() {
        var random = new Random(2028);
        int refused = 0;
        for (String region : UTIL.getSupportedRegions()) {
            for (int round = 0; round < 60; round++) {
                var sb = new StringBuilder(LEADS.get(random.nextInt(LEADS.size())));
                for (int k = 16 + random.nextInt(8); k > 0; k--) {
                    sb.append((char) ('0' + random.nextInt(10)));
                    if (random.nextInt(5) == 0) {
                        sb.append(SEPARATORS.charAt(random.nextInt(SEPARATORS.length())));
                    }
                }
                String raw = sb.toString().replaceAll("[^0-9]+$", "");
                if (PhoneDigits.tooLongToParse(PhoneDetector.digitsOf(raw), region)) {
                    assertThrows(NumberParseException.class, () -> UTIL.parseAndKeepRawInput(raw, region),
                            () -> "'" + raw + "' in " + region + " parses");
                    refused++;
                }
            }
        }
        assertTrue(refused > 5000, "only " + refused + " runs were refused as too long");
        assertTrue(PhoneDigits.tooLongToParse("805997337279561271", "GB"), "18 digits, nothing to remove");
        assertFalse(PhoneDigits.tooLongToParse("0805997337279561271", "GB"), "a national prefix may be removed");
        assertFalse(PhoneDigits.tooLongToParse("44805997337279561271", "GB"), "the country code may be removed");
        assertFalse(PhoneDigits.tooLongToParse("80599733727956127", "GB"), "17 digits may be a national number");
    }

    @Test
    void theWrittenOutNotAPhoneShapesAgreeWithTheirRegexOnRandomCandidates() {
        var random = new Random(2029);
        String chars = "0123456789 -./()+\n";
        int matched = 0;
        for (int round = 0; round < 200_000; round++) {
            var sb = new StringBuilder();
            if (random.nextBoolean()) {
                for (int k = random.nextInt(14); k > 0; k--) {
                    sb.append(chars.charAt(random.nextInt(random.nextInt(4) == 0 ? chars.length() : 10)));
                }
            } else { // three or four groups of 1 to 4 digits with one separator (or a line break) between them
                for (int g = 3 + random.nextInt(2); g > 0; g--) {
                    for (int k = 1 + random.nextInt(4); k > 0; k--) {
                        sb.append((char) ('0' + random.nextInt(10)));
                    }
                    if (g > 1) {
                        sb.append(" -./\n".charAt(random.nextInt(5)));
                    }
                }
            }
            String raw = sb.toString();
            boolean expected = PhoneDetector.NOT_A_PHONE.matcher(raw).matches();
            assertEquals(expected, PhoneDetector.notAPhone(raw), () -> "'" + raw + "'");
            matched += expected ? 1 : 0;
        }
        assertTrue(matched > 5000, "only " + matched + " random candidates had one of the shapes");
    }
}
