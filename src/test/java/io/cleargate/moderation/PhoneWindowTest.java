package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The phone detector leaves out libphonenumber's matcher where its answer is certain: the whole
 * candidate, or nothing ({@link PhoneDetector#matcherFinds}); every such answer must be the
 * matcher's, or a number would be reported that the matcher rejects, with another span, or missed. And the
 * number it reports for a candidate answered from its digits ({@link PhoneDetector#fromDigits})
 * must be the one libphonenumber parses.
 */
class PhoneWindowTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final List<String> PROFILE_REGIONS = List.of("US", "GB", "DE", "FR", "ES", "IT", "IN", "BR");
    /** Chars around a candidate: the quiet ones and ones the matcher reads or rejects. */
    private static final String AROUND = "  \n\t,;:.)]}\"'=<>*|!?&@#^_`~\\/-(+[{%$\u20ac\u00a3xaZ7\u00e9\u00a0\u2013\uff08\u0663";
    private static final String SEPARATORS = " -.";

    /** A real number of {@code region} (an example number with its last digits changed), written as people write them. */
    private static String written(String region, Random random) {
        PhoneNumber example = UTIL.getExampleNumber(region);
        if (example == null) {
            example = UTIL.getExampleNumberForType(region, PhoneNumberUtil.PhoneNumberType.MOBILE);
        }
        if (example == null) {
            return "+1 305 511 0715";
        }
        String national = String.valueOf(example.getNationalNumber());
        int keep = Math.max(1, national.length() - 1 - random.nextInt(4));
        var digits = new StringBuilder(national.substring(0, keep));
        while (digits.length() < national.length()) {
            digits.append((char) ('0' + random.nextInt(10)));
        }
        PhoneNumber changed = new PhoneNumber().setCountryCode(example.getCountryCode())
                .setNationalNumber(Long.parseLong(digits.toString())).setItalianLeadingZero(example.isItalianLeadingZero());
        PhoneNumberFormat format = PhoneNumberFormat.values()[random.nextInt(3)]; // E164, INTERNATIONAL, NATIONAL
        String text = UTIL.format(changed, format);
        return switch (random.nextInt(6)) {
            case 0 -> text.replace(' ', SEPARATORS.charAt(random.nextInt(SEPARATORS.length())));
            case 1 -> text.replaceAll("[^0-9+]", ""); // digits only
            case 2 -> text.replace(" ", "  ");
            case 3 -> text.startsWith("+") ? text.substring(1) : "(" + text.replaceFirst(" ", ") ");
            default -> text;
        };
    }

    /** A string shaped like the detector's candidates: maybe "+" or "(", digit groups with separators. */
    private static String shaped(Random random) {
        var sb = new StringBuilder();
        switch (random.nextInt(6)) {
            case 0 -> sb.append('+');
            case 1 -> sb.append('(');
            case 2 -> sb.append("+(");
            default -> { }
        }
        int groups = 1 + random.nextInt(5);
        for (int g = 0; g < groups; g++) {
            if (g > 0) {
                int run = random.nextInt(8) == 0 ? 2 + random.nextInt(4) : 1;
                for (int k = 0; k < run; k++) {
                    sb.append(" -./()".charAt(random.nextInt(6)));
                }
            }
            for (int k = 1 + random.nextInt(5); k > 0; k--) {
                sb.append((char) ('0' + random.nextInt(10)));
            }
        }
        return sb.toString();
    }

    /** What the detector passes on: a whole candidate match with six digits or more. */
    private static boolean isCandidate(String raw) {
        return PhoneDetector.CANDIDATE.matcher(raw).matches() && PhoneDetector.digitsOf(raw).length() >= 6;
    }

    private static PhoneNumber parsedIfValid(String raw, String region) {
        try {
            PhoneNumber number = UTIL.parseAndKeepRawInput(raw, region);
            return UTIL.isValidNumber(number) ? number : null;
        } catch (NumberParseException notANumber) {
            return null;
        }
    }

    /** Asserts the matcher finds what {@link PhoneDetector#matcherFinds} says wherever it is certain; counts per answer. */
    private static int[] assertCertainAnswersAreTheMatchers(String region, int rounds, Random random) {
        int[] certain = new int[2];
        for (int round = 0; round < rounds; round++) {
            String raw = random.nextBoolean() ? written(PROFILE_REGIONS.get(random.nextInt(PROFILE_REGIONS.size())), random)
                    : random.nextBoolean() ? written(region, random) : shaped(random);
            if (!isCandidate(raw)) {
                continue;
            }
            var text = new StringBuilder();
            if (random.nextInt(8) != 0) {
                text.append(AROUND.charAt(random.nextInt(AROUND.length())));
            }
            int start = text.length();
            text.append(raw);
            int end = text.length();
            if (random.nextInt(8) != 0) {
                text.append(AROUND.charAt(random.nextInt(AROUND.length())));
            }
            String window = text.toString();
            PhoneNumber number = parsedIfValid(raw, region);
            if (number == null) {
                continue;
            }
            var answer = PhoneDetector.matcherFinds(window, start, end, raw, PhoneDetector.digitsOf(raw), number, region);
            if (answer == PhoneDetector.Window.ASK) {
                continue;
            }
            List<PhoneNumberMatch> found = new ArrayList<>();
            UTIL.findNumbers(window, region, PhoneNumberUtil.Leniency.VALID, 16).forEach(found::add);
            String what = "'" + window + "' in " + region + " (" + answer + "): the matcher found " + found;
            if (answer == PhoneDetector.Window.NOTHING) {
                assertEquals(List.of(), found, what);
                certain[1]++;
                continue;
            }
            assertEquals(1, found.size(), what);
            assertEquals(start, found.get(0).start(), what);
            assertEquals(end, found.get(0).end(), what);
            assertEquals(raw, found.get(0).rawString(), what);
            assertEquals(number.getCountryCode(), found.get(0).number().getCountryCode(), what);
            assertEquals(number.getNationalNumber(), found.get(0).number().getNationalNumber(), what);
            certain[0]++;
        }
        return certain;
    }

    @Test
    void whereTheMatcherIsLeftOutItsAnswerIsCertainInTheProfilesRegions() {
        var random = new Random(3031);
        int nothing = 0;
        for (String region : PROFILE_REGIONS) {
            int[] certain = assertCertainAnswersAreTheMatchers(region, 5000, random);
            assertTrue(certain[0] > 300, () -> "the whole candidate was certain only " + certain[0] + " times of 5000 in " + region);
            nothing += certain[1];
        }
        assertTrue(nothing > 30, "no number was certain only " + nothing + " times");
    }

    @Test
    void whereTheMatcherIsLeftOutItsAnswerIsCertainInEverySupportedRegion() {
        var random = new Random(3032);
        for (String region : UTIL.getSupportedRegions()) {
            assertCertainAnswersAreTheMatchers(region, 300, random);
        }
    }

    @Test
    void aNumberAnsweredFromItsDigitsIsTheNumberLibphonenumberParsesWithOrWithoutPlus() throws NumberParseException {
        var random = new Random(3033);
        int answered = 0;
        int withPlus = 0;
        for (String region : UTIL.getSupportedRegions()) {
            for (int round = 0; round < 200; round++) {
                String raw = random.nextBoolean() ? written(region, random) : shaped(random);
                if (!isCandidate(raw)) {
                    continue;
                }
                boolean plus = raw.startsWith("+");
                String digits = PhoneDetector.digitsOf(raw);
                PhoneNumber direct = plus ? PhoneDigits.withPlus(digits) : PhoneDetector.fromDigits(digits, region);
                if (direct == null) {
                    continue;
                }
                assertSameNumber(UTIL.parseAndKeepRawInput(raw, region), direct, "'" + raw + "' in " + region);
                answered++;
                withPlus += plus ? 1 : 0;
            }
        }
        assertTrue(answered > 5000, "only " + answered + " numbers were answered from their digits");
        assertTrue(withPlus > 1000, "only " + withPlus + " numbers with \"+\" were answered from their digits");
    }

    /** The fields parsing sets that the detector reads, and the national significant number made of them. */
    private static void assertSameNumber(PhoneNumber parsed, PhoneNumber direct, String what) {
        assertEquals(parsed.getCountryCode(), direct.getCountryCode(), what);
        assertEquals(parsed.getNationalNumber(), direct.getNationalNumber(), what);
        assertEquals(parsed.isItalianLeadingZero(), direct.isItalianLeadingZero(), what);
        assertEquals(parsed.getNumberOfLeadingZeros(), direct.getNumberOfLeadingZeros(), what);
        assertEquals(UTIL.getNationalSignificantNumber(parsed), UTIL.getNationalSignificantNumber(direct), what);
        assertEquals(parsed.getCountryCodeSource(), direct.getCountryCodeSource(), what);
    }

    /**
     * Digits after a region's IDD prefix ("00", "011"), a calling code or not and groups of digits,
     * answered from the digits: the number parseAndKeepRawInput makes of them, its source the IDD.
     */
    @Test
    void aNumberAfterAnIddPrefixAnsweredFromItsDigitsIsTheNumberLibphonenumberParses() throws NumberParseException {
        var random = new Random(3034);
        var source = com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider.getInstance()
                .getPhoneNumberMetadataSource();
        List<Integer> codes = List.copyOf(UTIL.getSupportedCallingCodes());
        int answered = 0;
        int valid = 0;
        for (String region : UTIL.getSupportedRegions()) {
            String idd = source.getMetadataForRegion(region).getInternationalPrefix();
            for (int round = 0; round < 60; round++) {
                var sb = new StringBuilder(random.nextInt(4) == 0 ? "0" : idd);
                sb.append(random.nextInt(3) == 0 ? String.valueOf(random.nextInt(1000)) : String.valueOf(codes.get(random.nextInt(codes.size()))));
                for (int g = random.nextInt(4); g >= 0; g--) {
                    sb.append(" -./".charAt(random.nextInt(4)));
                    for (int k = 1 + random.nextInt(4); k > 0; k--) {
                        sb.append((char) ('0' + random.nextInt(10)));
                    }
                }
                String raw = sb.toString();
                PhoneNumber direct = PhoneDetector.fromDigits(PhoneDetector.digitsOf(raw), region);
                if (direct == null) {
                    continue;
                }
                PhoneNumber parsed = UTIL.parseAndKeepRawInput(raw, region);
                assertSameNumber(parsed, direct, "'" + raw + "' in " + region);
                assertEquals(UTIL.isValidNumber(parsed), PhoneValidity.isValid(direct), () -> "'" + raw + "' in " + region);
                answered += direct.getCountryCodeSource() == PhoneNumber.CountryCodeSource.FROM_NUMBER_WITH_IDD ? 1 : 0;
                valid += UTIL.isValidNumber(parsed) ? 1 : 0;
            }
        }
        assertTrue(answered > 3000 && valid > 300, "numbers after an IDD prefix answered from their digits: " + answered + ", valid " + valid);
    }

    @Test
    void aUsNumberBetweenSpacesOrWithASlashIsTakenWholeAndOneAfterALetterIsLeftToTheMatcher() {
        PhoneNumber us = PhoneDetector.fromDigits("3055110715", "US");
        String digits = "3055110715";
        assertEquals(PhoneDetector.Window.WHOLE,
                PhoneDetector.matcherFinds("call (305) 511-0715, now", 5, 19, "(305) 511-0715", digits, us, "US"));
        assertEquals(PhoneDetector.Window.ASK,
                PhoneDetector.matcherFinds("call a(305) 511-0715", 6, 20, "(305) 511-0715", digits, us, "US"), "a letter before");
        assertEquals(PhoneDetector.Window.WHOLE,
                PhoneDetector.matcherFinds(" 305/511-0715 ", 1, 13, "305/511-0715", digits, us, "US"),
                "a slash is punctuation its pattern reads through");
        assertEquals(PhoneDetector.Window.NOTHING,
                PhoneDetector.matcherFinds(" 12/31/2026 ", 1, 11, "12/31/2026", "12312026", us, "US"),
                "a date written with slashes is refused");
        assertEquals(PhoneDetector.Window.ASK,
                PhoneDetector.matcherFinds(" 305     5110715 ", 1, 16, "305     5110715", digits, us, "US"), "five spaces in a row");
    }

    @Test
    void aGermanNumberWithoutItsNationalPrefixIsNoNumberAndOneWithItIsTakenWhole() throws NumberParseException {
        PhoneNumber bare = UTIL.parseAndKeepRawInput("30-12345678", "DE");
        PhoneNumber prefixed = UTIL.parseAndKeepRawInput("030-12345678", "DE");
        assertTrue(UTIL.isValidNumber(bare) && UTIL.isValidNumber(prefixed), "both parse as valid Berlin numbers");
        assertEquals(PhoneDetector.Window.NOTHING,
                PhoneDetector.matcherFinds(" 30-12345678 ", 1, 12, "30-12345678", "3012345678", bare, "DE"));
        assertEquals(PhoneDetector.Window.WHOLE,
                PhoneDetector.matcherFinds(" 030-12345678 ", 1, 13, "030-12345678", "03012345678", prefixed, "DE"));
    }

    /**
     * Figures and short digit groups that parse as German numbers without the trunk 0 are refused
     * whole; the matcher then parses the pieces inside them, none of them valid, and finds nothing.
     */
    @Test
    void figuresValidInGermanyWithoutTheirTrunkPrefixHoldNoNumberInside() throws NumberParseException {
        for (String window : List.of(" 2866.46 ", " 5208 7065 ", " 234 506 ", " 20.4 / 28.0,", " 766.0 / 807.6 ", ":205.155,",
                " 5655 8118 54 ")) {
            String raw = window.substring(1, window.length() - 1);
            PhoneNumber number = parsedIfValid(raw, "DE");
            assertTrue(number != null, () -> "'" + raw + "' parses as a valid German number");
            var answer = PhoneDetector.matcherFinds(window, 1, window.length() - 1, raw, PhoneDetector.digitsOf(raw), number, "DE");
            assertEquals(PhoneDetector.Window.NOTHING, answer, window);
            assertEquals(List.of(), List.copyOf(toList(UTIL.findNumbers(window, "DE", PhoneNumberUtil.Leniency.VALID, 16))), window);
        }
    }

    /**
     * The page-range check enters its regex only where a "-" has a "(" after it: on candidate-shaped
     * strings (digits, "()-./", spaces, tabs, a "+", non-ASCII spaces now and then) its answer is the
     * regex's find, and both answers occur.
     */
    @Test
    void aPageRangeIsFoundExactlyWhereItsRegexFindsOne() {
        var random = new Random(3036);
        String chars = "0123456789012345678901234567890123456789 ()-./ ()--\t+\u00a0\u2009";
        int found = 0;
        for (int round = 0; round < 200_000; round++) {
            var sb = new StringBuilder();
            for (int k = 1 + random.nextInt(24); k > 0; k--) {
                sb.append(chars.charAt(random.nextInt(chars.length())));
            }
            String raw = sb.toString();
            boolean expected = PhoneDetector.pagesFind(raw);
            assertEquals(expected, PhoneDetector.pageRange(raw), () -> "'" + raw + "'");
            found += expected ? 1 : 0;
        }
        int[] count = {found};
        assertTrue(found > 1000 && found < 199_000, () -> "found " + count[0]);
        assertTrue(PhoneDetector.pageRange("211-227 (2003)") && !PhoneDetector.pageRange("(305) 511-0715"));
    }

    private static List<PhoneNumberMatch> toList(Iterable<PhoneNumberMatch> matches) {
        List<PhoneNumberMatch> list = new ArrayList<>();
        matches.forEach(list::add);
        return list;
    }
}
