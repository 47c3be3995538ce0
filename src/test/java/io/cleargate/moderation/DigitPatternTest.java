package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.NumberFormat;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneNumberDesc;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link DigitPattern} answers libphonenumber's metadata patterns with an automaton instead of the
 * regex engine; every answer must be the regex's, or a phone number's validity, parse or format
 * would change. Compared on every pattern of every region's metadata, on strings the regex accepts
 * (grown digit by digit while the regex says a match is still possible), the metadata's example
 * numbers with digits changed, added or removed, and random digit strings (PhoneValidityTest's helpers).
 */
class DigitPatternTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    /** Every pattern the phone detector asks about: descriptions, prefixes, formats and leading digits, and the example numbers. */
    private record Metadata(Set<String> patterns, List<String> examples) {}

    private static Metadata metadata() {
        var source = DefaultMetadataDependenciesProvider.getInstance().getPhoneNumberMetadataSource();
        List<PhoneMetadata> all = new ArrayList<>();
        for (String region : UTIL.getSupportedRegions()) {
            all.add(source.getMetadataForRegion(region));
        }
        for (int code : UTIL.getSupportedGlobalNetworkCallingCodes()) {
            all.add(source.getMetadataForNonGeographicalRegion(code));
        }
        Set<String> patterns = new LinkedHashSet<>();
        List<String> examples = new ArrayList<>();
        for (PhoneMetadata m : all) {
            for (PhoneNumberDesc d : List.of(m.getGeneralDesc(), m.getPremiumRate(), m.getTollFree(), m.getSharedCost(),
                    m.getVoip(), m.getPersonalNumber(), m.getPager(), m.getUan(), m.getVoicemail(), m.getFixedLine(),
                    m.getMobile())) {
                if (!d.getNationalNumberPattern().isEmpty()) {
                    patterns.add(d.getNationalNumberPattern());
                }
                if (!d.getExampleNumber().isEmpty()) {
                    examples.add(d.getExampleNumber());
                }
            }
            patterns.add(m.getInternationalPrefix());
            patterns.add(m.getNationalPrefixForParsing());
            if (m.hasLeadingDigits()) {
                patterns.add(m.getLeadingDigits());
            }
            for (NumberFormat f : m.getNumberFormatList()) {
                patterns.add(f.getPattern());
                for (int i = 0; i < f.getLeadingDigitsPatternCount(); i++) {
                    patterns.add(f.getLeadingDigitsPattern(i));
                }
            }
        }
        return new Metadata(patterns, examples);
    }

    @Test
    void everyMetadataPatternIsAnsweredAsTheRegexAnswersIt() {
        Metadata metadata = metadata();
        Random random = new Random(20261203);
        int compiled = 0;
        long checked = 0;
        long matched = 0;
        long lookedAt = 0;
        for (String regex : metadata.patterns()) {
            Pattern pattern = Pattern.compile(regex);
            DigitPattern automaton = DigitPattern.of(pattern);
            compiled += automaton.compiled() ? 1 : 0;
            List<String> inputs = new ArrayList<>();
            for (int k = 0; k < 60; k++) {
                String accepted = accepted(pattern, random);
                if (accepted != null) {
                    inputs.add(accepted);
                    inputs.add(accepted.isEmpty() ? accepted : PhoneValidityTest.mutated(accepted, random));
                    inputs.add(accepted + PhoneValidityTest.randomDigits(random, 1 + random.nextInt(3)));
                }
                inputs.add(PhoneValidityTest.randomDigits(random, random.nextInt(19)));
                String example = metadata.examples().get(random.nextInt(metadata.examples().size()));
                inputs.add(example);
                inputs.add(PhoneValidityTest.mutated(example, random));
            }
            inputs.add("");
            inputs.add("12a4"); // a char that is not a digit ends every match
            for (String input : inputs) {
                boolean matches = pattern.matcher(input).matches();
                boolean lookingAt = pattern.matcher(input).lookingAt();
                assertEquals(matches, automaton.matches(input), () -> "/" + regex + "/ matches '" + input + "'");
                assertEquals(lookingAt, automaton.lookingAt(input), () -> "/" + regex + "/ lookingAt '" + input + "'");
                checked++;
                matched += matches ? 1 : 0;
                lookedAt += lookingAt ? 1 : 0;
            }
        }
        // nearly all are compiled (the rest keep the regex), and both answers were seen often
        assertTrue(compiled > metadata.patterns().size() * 9 / 10, compiled + " of " + metadata.patterns().size() + " compiled");
        assertTrue(matched > checked / 5 && lookedAt > matched, checked + " checked, " + matched + " matched, " + lookedAt + " looked at");
    }

    @Test
    void alternativesAndRepetitionsAreTriedAsTheRegexEngineTriesThem() {
        // a first alternative that is a prefix of the second, an empty alternative, a bounded
        // repetition and an optional digit: the regex backtracks into each of them
        assertAnswers("1|12", new String[] {"1", "12"}, new String[] {"", "2", "13", "121"}, new String[] {"13", "121"});
        assertAnswers("(?:1|12)3", new String[] {"13", "123"}, new String[] {"12", "1223"}, new String[] {"1234"});
        assertAnswers("(?:|5)6", new String[] {"6", "56"}, new String[] {"5", "556"}, new String[] {"67"});
        assertAnswers("\\d{2,3}", new String[] {"12", "123"}, new String[] {"1", "1234"}, new String[] {"1234"});
        assertAnswers("[2-46-8]\\d?0", new String[] {"20", "490", "800"}, new String[] {"50", "90", "2"}, new String[] {"2000"});
        assertAnswers("0?(?:1[245]|2[1-35])(\\d{2})?", new String[] {"12", "012", "2199", "02599"}, new String[] {"13", "0", "219"},
                new String[] {"219"});
        assertAnswers("", new String[] {""}, new String[] {"1"}, new String[] {"1"});
    }

    /** The pattern is compiled; {@code matching} match whole, {@code other} do not; {@code prefixed} do not match but begin with a match. */
    private static void assertAnswers(String regex, String[] matching, String[] other, String[] prefixed) {
        DigitPattern automaton = DigitPattern.of(regex);
        assertTrue(automaton.compiled(), regex);
        for (String s : matching) {
            assertTrue(automaton.matches(s), () -> "/" + regex + "/ matches '" + s + "'");
            assertTrue(automaton.lookingAt(s), () -> "/" + regex + "/ lookingAt '" + s + "'");
        }
        for (String s : other) {
            assertFalse(automaton.matches(s), () -> "/" + regex + "/ does not match '" + s + "'");
        }
        for (String s : prefixed) {
            assertTrue(automaton.lookingAt(s), () -> "/" + regex + "/ lookingAt '" + s + "'");
        }
    }

    @Test
    void aPatternOutsideTheSubsetIsAnsweredByTheRegex() {
        // an anchor, unbounded or possessive repetition, look-ahead, negation, a letter, a back-reference
        for (String regex : List.of("(5\\d{6})$|1", "1\\d*", "1\\d+", "\\d{2,}", "1?+2", "(?=1)\\d", "[^1]", "a1", "(1)\\1", "1.")) {
            DigitPattern automaton = DigitPattern.of(regex);
            assertFalse(automaton.compiled(), regex);
            for (String input : List.of("", "1", "11", "12", "5123456", "111111", "a1", "1x")) {
                assertEquals(Pattern.compile(regex).matcher(input).matches(), automaton.matches(input), regex + " on " + input);
                assertEquals(Pattern.compile(regex).matcher(input).lookingAt(), automaton.lookingAt(input), regex + " on " + input);
            }
        }
    }

    /**
     * A string the regex matches whole, grown one random digit at a time among those after which the
     * regex can still match (it matches, or it read to the end of the input: more digits may help);
     * null when a walk runs into a dead end every time.
     */
    private static String accepted(Pattern pattern, Random random) {
        for (int attempt = 0; attempt < 5; attempt++) {
            StringBuilder s = new StringBuilder();
            for (int step = 0; step < 20; step++) {
                if (pattern.matcher(s).matches() && (random.nextInt(3) == 0 || step == 19)) {
                    return s.toString();
                }
                List<Character> viable = new ArrayList<>();
                for (char d = '0'; d <= '9'; d++) {
                    var m = pattern.matcher(s.toString() + d);
                    if (m.matches() || m.hitEnd()) {
                        viable.add(d);
                    }
                }
                if (viable.isEmpty()) {
                    break;
                }
                s.append(viable.get(random.nextInt(viable.size())));
            }
            if (pattern.matcher(s).matches()) {
                return s.toString();
            }
        }
        return null;
    }
}
