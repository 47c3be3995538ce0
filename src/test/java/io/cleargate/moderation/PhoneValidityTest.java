package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberType;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link PhoneValidity} skips regions its tables rule out; every answer must still be
 * libphonenumber's {@code isValidNumber}, or a phone number would go undetected (or an order
 * number be reported). The numbers are generated around each region's own metadata: its example
 * numbers of every type with digits changed, added or removed, and random national numbers of
 * the lengths it allows and one either side, from every three-digit start.
 */
class PhoneValidityTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    /** Answers checked, and how many of them were "valid" (so the test shows it covers both). */
    private record Tally(int checked, int valid) {
        Tally plus(boolean wasValid) {
            return new Tally(checked + 1, valid + (wasValid ? 1 : 0));
        }
    }

    private static Tally assertSameAnswer(PhoneNumber number, Tally tally) {
        boolean expected = UTIL.isValidNumber(number);
        assertEquals(expected, PhoneValidity.isValid(number),
                () -> "+" + number.getCountryCode() + " " + UTIL.getNationalSignificantNumber(number) + ": libphonenumber says " + expected);
        return tally.plus(expected);
    }

    private static PhoneNumber number(int code, String national) {
        var number = new PhoneNumber().setCountryCode(code);
        int zeros = 0;
        while (zeros < national.length() - 1 && national.charAt(zeros) == '0') {
            zeros++;
        }
        if (zeros > 0) {
            number.setItalianLeadingZero(true).setNumberOfLeadingZeros(zeros);
        }
        return number.setNationalNumber(Long.parseLong(national));
    }

    static String randomDigits(Random random, int count) {
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            sb.append((char) ('0' + random.nextInt(10)));
        }
        return sb.toString();
    }

    /** An example national number with one digit changed, one added or one removed. */
    static String mutated(String national, Random random) {
        var sb = new StringBuilder(national);
        int at = random.nextInt(sb.length());
        switch (random.nextInt(4)) {
            case 0 -> sb.insert(at, (char) ('0' + random.nextInt(10)));
            case 1 -> {
                if (sb.length() > 1) {
                    sb.deleteCharAt(at);
                }
            }
            default -> sb.setCharAt(at, (char) ('0' + random.nextInt(10)));
        }
        return sb.toString();
    }

    /** Examples of every type the regions of {@code code} have, as national numbers. */
    private static List<String> examples(int code) {
        List<String> out = new ArrayList<>();
        for (String region : UTIL.getRegionCodesForCountryCode(code)) {
            for (PhoneNumberType type : PhoneNumberType.values()) {
                PhoneNumber example = "001".equals(region) ? UTIL.getExampleNumberForNonGeoEntity(code)
                        : UTIL.getExampleNumberForType(region, type);
                if (example != null) {
                    out.add(UTIL.getNationalSignificantNumber(example));
                }
            }
        }
        return out;
    }

    private static List<Integer> lengths(int code) {
        List<Integer> lengths = new ArrayList<>();
        var source = com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider.getInstance().getPhoneNumberMetadataSource();
        for (String region : UTIL.getRegionCodesForCountryCode(code)) {
            var metadata = "001".equals(region) ? source.getMetadataForNonGeographicalRegion(code) : source.getMetadataForRegion(region);
            for (int length : metadata.getGeneralDesc().getPossibleLengthList()) {
                for (int l = Math.max(1, length - 1); l <= Math.min(17, length + 1); l++) {
                    if (!lengths.contains(l)) {
                        lengths.add(l);
                    }
                }
            }
        }
        return lengths.isEmpty() ? List.of(7, 8, 9, 10) : lengths;
    }

    /** Mutated examples and random numbers of every length the code allows, from {@code starts} random three-digit starts. */
    private static Tally checkCallingCode(int code, int mutations, int starts, Random random, Tally tally) {
        for (String example : examples(code)) {
            tally = assertSameAnswer(number(code, example), tally);
            for (int i = 0; i < mutations; i++) {
                tally = assertSameAnswer(number(code, mutated(example, random)), tally);
            }
        }
        List<Integer> lengths = lengths(code);
        for (int i = 0; i < starts; i++) {
            int length = lengths.get(random.nextInt(lengths.size()));
            tally = assertSameAnswer(number(code, randomDigits(random, length)), tally);
        }
        return tally;
    }

    @Test
    void everyAnswerIsLibphonenumbersForEveryCallingCode() {
        var random = new Random(2030);
        Tally tally = new Tally(0, 0);
        for (int code : UTIL.getSupportedCallingCodes()) {
            tally = checkCallingCode(code, 30, 300, random, tally);
        }
        Tally done = tally;
        assertTrue(done.checked() > 100_000, () -> "only " + done.checked() + " numbers checked");
        assertTrue(done.valid() > 10_000 && done.valid() < done.checked() - 10_000, () -> done + ": both answers must be exercised");
    }

    @Test
    void everyAnswerIsLibphonenumbersFromEveryStartInTheSharedCallingCodes() {
        var random = new Random(2031);
        Tally tally = new Tally(0, 0);
        for (int code : UTIL.getSupportedCallingCodes()) {
            if (UTIL.getRegionCodesForCountryCode(code).size() > 1) {
                List<Integer> lengths = lengths(code);
                for (int start = 0; start < 1000; start++) {
                    for (int i = 0; i < 6; i++) {
                        int length = Math.max(4, lengths.get(random.nextInt(lengths.size())));
                        String national = String.format("%03d", start) + randomDigits(random, length - 3);
                        tally = assertSameAnswer(number(code, national), tally);
                    }
                }
                tally = checkCallingCode(code, 300, 0, random, tally);
            }
        }
        Tally done = tally;
        assertTrue(done.valid() > 1_000, () -> done + ": too few valid numbers to mean anything");
    }

    /**
     * {@link PhoneDetector.Formats#chosen} skips the formats its tables rule out for a number's first
     * three digits; its choice must still be the first format, in the main region's order, whose
     * leading digits and pattern fit the number (what the matcher's national-prefix check asks).
     */
    @Test
    void theNationalPrefixFormatFromTheTablesIsTheFirstThatFitsForEveryCallingCode() {
        var random = new Random(2032);
        int checked = 0;
        int chosen = 0;
        for (int code : UTIL.getSupportedCallingCodes()) {
            if ("001".equals(UTIL.getRegionCodeForCountryCode(code))) {
                continue; // the check asks a default region's own code, never a non-geographic one
            }
            var formats = PhoneDetector.Formats.of(code);
            List<String> nationals = new ArrayList<>();
            for (String example : examples(code)) {
                nationals.add(example);
                for (int i = 0; i < 30; i++) {
                    nationals.add(mutated(example, random));
                }
            }
            List<Integer> lengths = lengths(code);
            for (int start = 0; start < 1000; start += 1 + random.nextInt(3)) {
                int length = Math.max(4, lengths.get(random.nextInt(lengths.size())));
                nationals.add(String.format("%03d", start) + randomDigits(random, length - 3));
            }
            for (String national : nationals) {
                PhoneDetector.Format expected = formats.formats().stream().filter(f -> f.fits(national)).findFirst().orElse(null);
                assertEquals(expected, formats.chosen(national), () -> "+" + code + " " + national);
                checked++;
                chosen += expected == null ? 0 : 1;
            }
        }
        int done = checked;
        int found = chosen;
        assertTrue(done > 100_000 && found > 10_000 && found < done - 10_000,
                () -> found + " of " + done + " numbers have a format: both answers must be exercised");
    }

    /**
     * Codes libphonenumber has no region for are answered from the table's marker, not asked of
     * libphonenumber per number: every code from 0 to 999 and a few beyond, asked twice each (the
     * second answer from the table), agree with isValidNumber; more than half of them have no region.
     */
    @Test
    void everyCallingCodeWithOrWithoutARegionIsAnsweredAsLibphonenumberDoes() {
        var random = new Random(2033);
        int withoutRegion = 0;
        Tally tally = new Tally(0, 0);
        for (int code = 0; code < 1010; code++) {
            withoutRegion += UTIL.getRegionCodesForCountryCode(code).isEmpty() ? 1 : 0;
            for (int round = 0; round < 2; round++) {
                for (String example : code < 1000 && !examples(code).isEmpty() ? examples(code) : List.of(randomDigits(random, 9))) {
                    tally = assertSameAnswer(number(code, example), tally);
                }
            }
        }
        assertTrue(withoutRegion > 500, "codes without a region: " + withoutRegion);
        assertTrue(tally.valid() > 1000, "valid answers: " + tally.valid());
    }

    @Test
    void aCallingCodeTableBuildsEachCodeOnceAndCodesOutsideItEveryTime() {
        int[] builds = new int[1];
        var table = new ByCallingCode<>(code -> {
            builds[0]++;
            return "code " + code;
        });
        for (int round = 0; round < 3; round++) {
            for (int code = 0; code < 1000; code++) {
                assertEquals("code " + code, table.get(code));
            }
        }
        assertEquals(1000, builds[0], "each code built once");
        assertEquals("code 1000", table.get(1000));
        assertEquals("code -1", table.get(-1));
        assertEquals(1002, builds[0], "codes outside the table built on each ask");
    }

    @Test
    void numbersOfTheNorthAmericanPlanAreFoundInTheirRegion() {
        assertTrue(PhoneValidity.isValid(number(1, "3055110715")), "Florida");
        assertTrue(PhoneValidity.isValid(number(1, "4165550123")), "Toronto: Canada, after the US and the regions before it");
        assertTrue(PhoneValidity.isValid(number(1, "2684601234")), "Antigua, by its leading digits");
        assertFalse(PhoneValidity.isValid(number(1, "5555550123")), "no region has 555");
        assertFalse(PhoneValidity.isValid(number(1, "0305110715")), "no region has a leading 0");
        assertFalse(PhoneValidity.isValid(number(999, "12345678")), "no region has calling code 999");
    }

    /** The national significant number built without libphonenumber's string builder is libphonenumber's, leading zeros and all. */
    @Test
    void theNationalSignificantNumberIsLibphonenumbers() {
        var random = new Random(2026);
        int withZeros = 0;
        for (int round = 0; round < 20_000; round++) {
            var number = new PhoneNumber().setCountryCode(1 + random.nextInt(999)).setNationalNumber(random.nextInt(3) == 0
                    ? random.nextInt(1000) : Math.abs(random.nextLong() % 100_000_000_000_000L));
            if (random.nextBoolean()) {
                number.setItalianLeadingZero(true); // the count left unset means one zero
                if (random.nextBoolean()) {
                    number.setNumberOfLeadingZeros(random.nextInt(4));
                }
            }
            withZeros += number.isItalianLeadingZero() && number.getNumberOfLeadingZeros() > 0 ? 1 : 0;
            assertEquals(UTIL.getNationalSignificantNumber(number), PhoneValidity.nationalSignificantNumber(number), number::toString);
        }
        assertTrue(withZeros > 5_000, withZeros + " with leading zeros");
    }

    @Test
    void aStartIsRuledOutOnlyWhenThePatternCannotMatchWhateverFollows() {
        Pattern antigua = Pattern.compile("268");
        assertEquals(PhoneValidity.State.ALWAYS, PhoneValidity.leadingState(antigua, "268"));
        assertEquals(PhoneValidity.State.NEVER, PhoneValidity.leadingState(antigua, "269"));
        assertEquals(PhoneValidity.State.ASK, PhoneValidity.leadingState(Pattern.compile("8001|8[024]9"), "800"));
        var us = PhoneValidity.Desc.of(List.of(10), "[2-9]\\d{9}|3\\d{6}");
        assertFalse(us.cannotMatchAfter("305"));
        assertTrue(us.cannotMatchAfter("030"), "no number of the pattern begins with 0");
        assertFalse(us.matches("305511071"), "nine digits: not a possible length");
        assertTrue(us.matches("3055110715"));
    }
}
