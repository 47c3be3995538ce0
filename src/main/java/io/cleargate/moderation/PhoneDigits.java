package io.cleargate.moderation;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber.CountryCodeSource;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;

/**
 * The number libphonenumber's {@code parseAndKeepRawInput} makes of a phone candidate without "+",
 * computed from its digits where parsing would only read them (its country code, national number,
 * leading zeros and country code source; the raw input and carrier code left out); null where
 * libphonenumber must be asked. Its parse was the largest single cost of dense personal data:
 * several regular expressions over the candidate for each candidate and region.
 *
 * <p>Why the answer is libphonenumber's (9.0.19's {@code parseHelper}): a candidate holds only
 * digits and "()-./ " after an optional "(", so parsing finds no extension label, RFC 3966
 * parameter or letter, the number is viable (three digits or more), and what it goes on with is
 * the digits alone. When the region's IDD prefix begins them, it is asked. When its country code
 * begins them and the region is its code's main region, the code is taken off (and a national
 * prefix after it, as below but without the length test) when the digits do not match the
 * region's general description and what is left does, or when they are too long for the region
 * ({@code maybeExtractCountryCode}); else the country code is the region's. Then, when the region's
 * national prefix pattern matches at their start and the region has no transform rule, that
 * prefix is stripped unless the digits match the region's general description and the rest does
 * not, and the stripped number is kept only when the region's possible lengths allow its length
 * ({@code testNumberLength}: not too short, not a local-only or impossible length). The leading
 * zeros of what is left are kept as libphonenumber keeps them (the "Italian leading zero" and
 * their count). {@code PhoneWindowTest} and {@code PhoneDigitsTest} compare the numbers and their
 * validity with parse's in every supported region.
 */
final class PhoneDigits {

    /**
     * What parsing reads of a default region's metadata; {@code main}: the region is its calling
     * code's main region. Its patterns are answered by automata ({@link DigitPattern}); the national
     * prefix's regex still says where a prefix ends and what its groups captured.
     */
    private record Region(int code, String countryCode, boolean main, DigitPattern internationalPrefix, String iddDigits,
            DigitPattern nationalPrefix, boolean rewrites, DigitPattern general, List<Integer> lengths, List<Integer> localLengths) {}

    /** Region metadata only, never client text. */
    private static final ConcurrentHashMap<String, Region> REGIONS = new ConcurrentHashMap<>();

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    private PhoneDigits() {}

    static PhoneNumber number(String digits, String regionCode) {
        Region region = REGIONS.computeIfAbsent(regionCode, PhoneDigits::regionOf);
        int n = digits.length();
        if (n < 2 || n > 17 || region.lengths().isEmpty()) {
            return null; // no lengths to test: ask
        }
        if (region.internationalPrefix().lookingAt(digits)) {
            return afterIdd(region, digits);
        }
        String national = digits;
        CountryCodeSource source = CountryCodeSource.FROM_DEFAULT_COUNTRY;
        if (digits.startsWith(region.countryCode())) {
            if (!region.main()) {
                return null; // parsing would go on with the main region's metadata: ask
            }
            // maybeExtractCountryCode: the code is taken when that makes an unviable number viable,
            // or when the digits are too long for the region with it
            String potential = withoutNationalPrefix(region, digits.substring(region.countryCode().length()));
            if (potential == null) {
                return null;
            }
            if (!matches(region.general(), digits) && matches(region.general(), potential) || tooLong(region, digits.length())) {
                national = potential;
                source = CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN;
            }
        }
        return numberOf(region, national, source);
    }

    /**
     * The number of digits that begin with the region's IDD prefix, where that prefix is a plain
     * digit string ("00", "011"): parsing strips it unless a 0 follows (no calling code begins with
     * 0), and then reads the rest as it reads the digits after a "+" ({@code
     * maybeExtractCountryCode}: the calling code, then the national prefix block with the code's
     * main region's metadata), only the country code source differing. Figures in tables and logs
     * ("0.02 / 0.20 / 5.87") begin with "00" and were parsed in every region whose IDD prefix that is.
     * Null (ask) for a prefix that is a pattern (where it ends is the regex's to say), a 0 after it,
     * or two digits or fewer after it (refused as too short: parsing says so).
     */
    private static PhoneNumber afterIdd(Region region, String digits) {
        String idd = region.iddDigits();
        if (idd == null || !digits.startsWith(idd)) {
            return null;
        }
        String rest = digits.substring(idd.length());
        if (rest.length() <= 2 || rest.charAt(0) == '0') {
            return null;
        }
        PhoneNumber number = withPlus(rest);
        return number == null ? null : number.setCountryCodeSource(CountryCodeSource.FROM_NUMBER_WITH_IDD);
    }

    /**
     * Whether parsing refuses a candidate without "+" whose digits are {@code digits} as too long
     * ({@code parseHelper}'s TOO_LONG_NSN): more than 17 digits, none of which it can remove,
     * because neither the region's IDD prefix, nor its country code, nor its national prefix
     * pattern begins them; the national number is then all of them. Long digit runs (ids, card-like
     * groups) were parsed just to be refused, which cost more than every other candidate of a text.
     */
    static boolean tooLongToParse(String digits, String regionCode) {
        if (digits.length() <= 17) {
            return false;
        }
        Region region = REGIONS.computeIfAbsent(regionCode, PhoneDigits::regionOf);
        return !region.internationalPrefix().lookingAt(digits) && !digits.startsWith(region.countryCode())
                && (region.nationalPrefix() == null || !region.nationalPrefix().lookingAt(digits));
    }

    /** parseHelper from the national number on: the national prefix stripped again, kept when the length that leaves is possible. */
    private static PhoneNumber numberOf(Region region, String national, CountryCodeSource source) {
        String stripped = withoutNationalPrefix(region, national);
        if (stripped == null) {
            return null;
        }
        if (stripped != national && keepsLength(region, stripped.length())) {
            national = stripped;
        }
        if (national.length() < 2 || national.length() > 17) {
            return null; // parsing refuses it: ask, and be told
        }
        var number = new PhoneNumber().setCountryCode(region.code()).setNationalNumber(Long.parseLong(national))
                .setCountryCodeSource(source);
        if (national.length() > 1 && national.charAt(0) == '0') {
            // as parsing sets them: the zeros before the first other digit, the last digit never counted
            int zeros = 1;
            while (zeros < national.length() - 1 && national.charAt(zeros) == '0') {
                zeros++;
            }
            number.setItalianLeadingZero(true);
            if (zeros != 1) {
                number.setNumberOfLeadingZeros(zeros);
            }
        }
        return number;
    }

    /**
     * The same for a candidate written with "+" and these digits after it: the country code is the
     * shortest one to three leading digits that libphonenumber knows as one ({@code
     * extractCountryCode}), and the rest is the national number, after the national prefix block
     * above with the metadata of the code's main region; null (ask) when no code is known, or when
     * two digits or fewer follow the "+".
     */
    static PhoneNumber withPlus(String digits) {
        int n = digits.length();
        if (n <= 2 || n > 20 || digits.charAt(0) == '0') {
            return null;
        }
        for (int i = 1; i <= 3 && i <= n; i++) {
            int code = Integer.parseInt(digits, 0, i, 10);
            String main = UTIL.getRegionCodeForCountryCode(code);
            if (!UTIL.getRegionCodesForCountryCode(code).isEmpty()) {
                Region region = REGIONS.computeIfAbsent(main.equals("001") ? "+" + code : main, PhoneDigits::regionOf);
                if (region.lengths().isEmpty()) {
                    return null;
                }
                return numberOf(region, digits.substring(i), CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN);
            }
        }
        return null;
    }

    /**
     * {@code maybeStripNationalPrefixAndCarrierCode} without a transform rule: {@code digits}
     * without the national prefix that begins them, unless the digits match the general
     * description and what is left does not; the same string when nothing is stripped; null
     * (ask) when the region rewrites a prefix it finds (Brazil, Argentina, ...). A region with a
     * transform rule rewrites only when the prefix pattern's last group captured something (a
     * carrier or area code); otherwise parsing strips the prefix as any region does, so figures
     * with a leading 0 in Brazil ("0.36 / 0.67") no longer need the parse.
     */
    private static String withoutNationalPrefix(Region region, String digits) {
        if (region.nationalPrefix() == null || digits.isEmpty()) {
            return digits;
        }
        DigitPattern national = region.nationalPrefix();
        if (national.compiled() && !national.lookingAt(digits)) {
            return digits; // most candidates: no prefix, answered without the regex
        }
        Matcher prefix = national.regex().matcher(digits);
        if (!prefix.lookingAt()) {
            return digits;
        }
        if (region.rewrites() && prefix.group(prefix.groupCount()) != null) {
            return null;
        }
        String rest = digits.substring(prefix.end());
        return matches(region.general(), digits) && !matches(region.general(), rest) ? digits : rest;
    }

    /**
     * Whether {@code testNumberLength} on the general description lets a stripped number of this
     * length stand: neither too short, nor local only, nor a length between the shortest and the
     * longest that is not listed (too long is allowed).
     */
    private static boolean keepsLength(Region region, int length) {
        List<Integer> lengths = region.lengths();
        return lengths.getFirst() != -1 && !region.localLengths().contains(length) && length >= lengths.getFirst()
                && (length > lengths.getLast() || lengths.contains(length));
    }

    /** Whether {@code testNumberLength} says TOO_LONG for a number of this length. */
    private static boolean tooLong(Region region, int length) {
        List<Integer> lengths = region.lengths();
        return lengths.getFirst() != -1 && !region.localLengths().contains(length) && length > lengths.getFirst()
                && length > lengths.getLast();
    }

    /** A national number pattern matched as libphonenumber matches it (an empty pattern matches nothing). */
    private static boolean matches(DigitPattern pattern, String digits) {
        return pattern != null && pattern.matches(digits);
    }

    /** A region's metadata, by its code, or a non-geographical calling code's, by "+" and the code. */
    private static Region regionOf(String key) {
        var source = DefaultMetadataDependenciesProvider.getInstance().getPhoneNumberMetadataSource();
        PhoneMetadata m = key.startsWith("+") ? source.getMetadataForNonGeographicalRegion(Integer.parseInt(key.substring(1)))
                : source.getMetadataForRegion(key);
        String national = m.getNationalPrefixForParsing();
        String general = m.getGeneralDesc().getNationalNumberPattern();
        String idd = m.getInternationalPrefix();
        return new Region(m.getCountryCode(), String.valueOf(m.getCountryCode()),
                key.equals(UTIL.getRegionCodeForCountryCode(m.getCountryCode())), DigitPattern.of(idd),
                !idd.isEmpty() && idd.chars().allMatch(c -> c >= '0' && c <= '9') ? idd : null,
                national.isEmpty() ? null : DigitPattern.of(national), !m.getNationalPrefixTransformRule().isEmpty(),
                general.isEmpty() ? null : DigitPattern.of(general), List.copyOf(m.getGeneralDesc().getPossibleLengthList()),
                List.copyOf(m.getGeneralDesc().getPossibleLengthLocalOnlyList()));
    }
}
