package io.cleargate.moderation;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneNumberDesc;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link PhoneNumberUtil#isValidNumber}, decided from libphonenumber's metadata with the regions
 * and number types that cannot hold a number ruled out beforehand from its first three digits.
 *
 * <p>How libphonenumber decides (9.0.19): a number is valid in a region when its national
 * significant number matches the region's general description and one of its number types
 * (premium rate, toll free, ..., fixed line, mobile; mobile not on its own when the region marks
 * its pattern as the fixed line's), each a list of possible lengths and a pattern matched whole.
 * A country calling code with one region asks that region. A code shared by several regions (1:
 * the 25 regions of the North American plan; 7, 44, 61, ...) walks them in order and stops at the
 * first that claims the number: a region with "leading digits" claims it when that pattern matches
 * at its start, one without when the number is valid there; the number is then valid when it is
 * valid in that region. A US-shaped number that is not a US one walked every region, type by type,
 * and validity was the largest cost of dense personal data after parsing.
 *
 * <p>What is decided beforehand, for every three-digit start of a national number: per region,
 * whether its leading-digits pattern matches whatever follows ({@link State#ALWAYS}), cannot match
 * whatever follows ({@link State#NEVER}) or depends on it, and which of its number types can
 * match a longer number with that start at all. "Cannot match whatever follows" is the regex
 * engine's own answer on the three digits: no match, and it never read to their end
 * ({@link Matcher#hitEnd()}), so more digits could not change it. Ruled-out regions and types are
 * skipped (asking them would have answered no); everything else is matched as libphonenumber
 * matches it, with the same patterns. The tables come from libphonenumber's metadata alone, one
 * calling code at a time on first use (as libphonenumber loads its own metadata).
 * {@code PhoneValidityTest} compares the answers with {@code isValidNumber} on numbers generated
 * around every calling code's metadata.
 */
final class PhoneValidity {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    /** How many leading digits of the national number the tables are indexed by. */
    static final int DIGITS = 3;
    static final int ROWS = 1000;

    /**
     * Per country calling code; metadata only, never client text. A code without a region holds
     * {@link #NO_REGION}: its region list was asked of libphonenumber on every number before.
     */
    private static final ByCallingCode<CallingCode> CODES = new ByCallingCode<>(code -> {
        List<String> regions = UTIL.getRegionCodesForCountryCode(code);
        return regions.isEmpty() ? CallingCode.NO_REGION : CallingCode.of(code, regions);
    });

    private PhoneValidity() {}

    /** Exactly {@code PhoneNumberUtil.getInstance().isValidNumber(number)}. */
    static boolean isValid(PhoneNumber number) {
        CallingCode calling = CODES.get(number.getCountryCode());
        return calling != CallingCode.NO_REGION && calling.isValid(number); // no region: isValidNumber finds none and says no
    }

    /** What a region's leading-digits pattern answers for every national number beginning with a given three digits. */
    enum State {
        /** No, whatever follows. */
        NEVER,
        /** Yes, whatever follows. */
        ALWAYS,
        /** It depends on what follows: ask. */
        ASK
    }

    /**
     * A number description as libphonenumber matches one: its possible lengths ({@code anyLength}:
     * none listed; else a bit per length, and a list holding only -1 allows none) and its pattern,
     * matched whole (by an automaton, {@link DigitPattern}).
     */
    record Desc(boolean anyLength, long lengths, DigitPattern pattern) {

        /** The description, or null when it has no pattern (it matches nothing). */
        static Desc of(PhoneNumberDesc desc) {
            String regex = desc.getNationalNumberPattern();
            return regex.isEmpty() ? null : of(desc.getPossibleLengthList(), regex);
        }

        /** The description with these possible lengths and this pattern. */
        static Desc of(List<Integer> possibleLengths, String regex) {
            long lengths = 0;
            for (int length : possibleLengths) {
                if (length >= 0 && length < 64) {
                    lengths |= 1L << length;
                }
            }
            return new Desc(possibleLengths.isEmpty(), lengths, DigitPattern.of(regex));
        }

        /** {@code isNumberMatchingDesc}. */
        boolean matches(String national) {
            int length = national.length();
            return (anyLength || length < 64 && (lengths >>> length & 1) != 0) && pattern.matches(national);
        }

        /** Whether no string longer than {@code start} that begins with it can match the pattern whole. */
        boolean cannotMatchAfter(String start) {
            return PhoneValidity.cannotMatchAfter(pattern.regex(), start);
        }
    }

    /**
     * One region of a calling code: its code, its leading-digits pattern (null: none, or the code's
     * only region; asked at a number's start, by an automaton), its general description (null: none)
     * and its number types in libphonenumber's order.
     */
    private record Region(String code, DigitPattern leading, Desc general, List<Desc> types) {

        static Region of(String code, PhoneMetadata m, boolean shared) {
            List<Desc> types = new ArrayList<>();
            for (PhoneNumberDesc d : List.of(m.getPremiumRate(), m.getTollFree(), m.getSharedCost(), m.getVoip(),
                    m.getPersonalNumber(), m.getPager(), m.getUan(), m.getVoicemail(), m.getFixedLine())) {
                types.add(Desc.of(d));
            }
            types.add(m.getSameMobileAndFixedLinePattern() ? null : Desc.of(m.getMobile()));
            return new Region(code, shared && m.hasLeadingDigits() ? DigitPattern.of(m.getLeadingDigits()) : null,
                    Desc.of(m.getGeneralDesc()), types);
        }

        /**
         * Valid here ({@code isValidNumberForRegion} for a number of this region's code): the
         * general description and one of the types in {@code possible} (a bit per type) match.
         */
        boolean valid(String national, long possible) {
            if (possible == 0 || !general.matches(national)) {
                return false;
            }
            for (long m = possible; m != 0; m &= m - 1) {
                if (types.get(Long.numberOfTrailingZeros(m)).matches(national)) {
                    return true;
                }
            }
            return false;
        }

        /** The types (a bit each) that can match a number longer than {@code start} beginning with it; 0 when the general description cannot. */
        long possibleAfter(String start) {
            if (general == null || general.cannotMatchAfter(start)) {
                return 0;
            }
            long possible = 0;
            for (int t = 0; t < types.size(); t++) {
                if (types.get(t) != null && !types.get(t).cannotMatchAfter(start)) {
                    possible |= 1L << t;
                }
            }
            return possible;
        }
    }

    /** A calling code's regions in libphonenumber's order and, per three-digit start, each region's leading state and possible types. */
    private record CallingCode(List<Region> regions, State[][] leading, long[][] possible) {

        /** A code libphonenumber has no region for. */
        static final CallingCode NO_REGION = new CallingCode(List.of(), new State[0][], new long[0][]);

        static CallingCode of(int code, List<String> regionCodes) {
            var source = DefaultMetadataDependenciesProvider.getInstance().getPhoneNumberMetadataSource();
            List<Region> regions = regionCodes.stream().map(r -> Region.of(r, "001".equals(r)
                    ? source.getMetadataForNonGeographicalRegion(code) : source.getMetadataForRegion(r), regionCodes.size() > 1)).toList();
            State[][] leading = new State[ROWS][regions.size()];
            long[][] possible = new long[ROWS][regions.size()];
            for (int row = 0; row < ROWS; row++) {
                String start = start(row);
                for (int i = 0; i < regions.size(); i++) {
                    Region region = regions.get(i);
                    leading[row][i] = region.leading() == null ? State.ASK : leadingState(region.leading().regex(), start);
                    possible[row][i] = region.possibleAfter(start);
                }
            }
            return new CallingCode(regions, leading, possible);
        }

        boolean isValid(PhoneNumber number) {
            String national = nationalSignificantNumber(number);
            if (national.length() <= DIGITS) {
                return UTIL.isValidNumber(number); // the tables speak for longer numbers only
            }
            int row = row(national);
            if (regions.size() == 1) {
                return regions.getFirst().valid(national, possible[row][0]);
            }
            // getRegionCodeForNumber's walk: the first region that claims the number decides
            for (int i = 0; i < regions.size(); i++) {
                Region region = regions.get(i);
                long types = possible[row][i];
                if (region.leading() == null) {
                    if (region.valid(national, types)) {
                        return true; // claimed because it is valid there
                    }
                } else if (leading[row][i] == State.ALWAYS
                        || leading[row][i] == State.ASK && region.leading().lookingAt(national)) {
                    return region.valid(national, types);
                }
            }
            return false; // no region claims it
        }
    }

    /**
     * {@code getNationalSignificantNumber} (9.0.19): the leading zeros an "Italian leading zero"
     * number keeps, then its national number; without the string builder, asked for every
     * candidate and region.
     */
    static String nationalSignificantNumber(PhoneNumber number) {
        String national = Long.toString(number.getNationalNumber());
        return number.isItalianLeadingZero() && number.getNumberOfLeadingZeros() > 0
                ? "0".repeat(number.getNumberOfLeadingZeros()) + national : national;
    }

    /** The three-digit start of the table row {@code row}. */
    static String start(int row) {
        return String.format("%03d", row);
    }

    /** The table row of a national number longer than {@link #DIGITS}: its first three digits. */
    static int row(String national) {
        return Integer.parseInt(national, 0, DIGITS, 10);
    }

    /** Whether no string longer than {@code start} that begins with it can match {@code pattern} whole: no match, and the engine never read to its end. */
    static boolean cannotMatchAfter(Pattern pattern, String start) {
        Matcher m = pattern.matcher(start);
        return !m.matches() && !m.hitEnd();
    }

    /**
     * A leading-digits pattern on numbers beginning with {@code start}: ALWAYS when it matches at
     * the start of {@code start} already (it reads nothing after), NEVER when it fails without
     * reading to its end, else ASK.
     */
    static State leadingState(Pattern leading, String start) {
        Matcher m = leading.matcher(start);
        if (m.lookingAt()) {
            return State.ALWAYS;
        }
        return m.hitEnd() ? State.ASK : State.NEVER;
    }
}
