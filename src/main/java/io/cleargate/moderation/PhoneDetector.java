package io.cleargate.moderation;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.Phonenumber;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Phone numbers: runs of digits and the usual separators, parsed and validated by
 * libphonenumber for each configured default region in turn; numbers written with a + country code are found whatever the region. A bare
 * digit string without formatting or a nearby word like "phone" scores low, because order and
 * account numbers look just like it.
 */
final class PhoneDetector implements Detector {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    /**
     * Dotted quads, dates, card-shaped 4-4-4-4 groups and SSN-shaped 3-2-4 groups that
     * libphonenumber would otherwise accept as numbers.
     */
    static final java.util.regex.Pattern NOT_A_PHONE = CharClasses.compile(
            "[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}.*|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
                    + "|[0-9]{4}([ \\-])[0-9]{4}\\1[0-9]{4}\\1[0-9]{1,4}|[0-9]{3}-[0-9]{2}-[0-9]{4}");

    /**
     * The alternatives of {@link #NOT_A_PHONE}, each a few digit groups with one separator char
     * between them: a group followed by a separator or the end is a whole run of digits, so each is
     * read run by run instead of by the regex engine, which was entered for every candidate
     * ({@code PhoneDigitsTest} compares the two on random candidates).
     */
    private static final Shape[] NOT_A_PHONE_SHAPES = {
        new Shape(new int[] {1, 1, 1, 1}, new int[] {3, 3, 3, 3}, ".", false, false), // a dotted quad
        new Shape(new int[] {4, 1, 1}, new int[] {4, 2, 2}, "-/.", false, true), // a date, year first, and anything after it
        new Shape(new int[] {1, 1, 2}, new int[] {2, 2, 4}, "-/.", false, false), // a date, year last
        new Shape(new int[] {4, 4, 4, 1}, new int[] {4, 4, 4, 4}, " -", true, false), // card-shaped groups
        new Shape(new int[] {3, 2, 4}, new int[] {3, 2, 4}, "-", false, false) // SSN-shaped groups
    };

    /** Whether {@link #NOT_A_PHONE} matches the whole of {@code raw}. */
    static boolean notAPhone(String raw) {
        for (Shape shape : NOT_A_PHONE_SHAPES) {
            if (shape.matchesWhole(raw)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Digit groups of {@code least[g]} to {@code most[g]} digits, one of {@code separators}
     * between each two (with {@code sameSeparator}, the first one each time); with {@code
     * openEnd}, anything but a line break may follow the last group's first {@code least} digits.
     */
    private record Shape(int[] least, int[] most, String separators, boolean sameSeparator, boolean openEnd) {

        boolean matchesWhole(String t) {
            int n = t.length();
            int i = 0;
            char first = 0;
            for (int g = 0; g < least.length; g++) {
                if (g > 0) {
                    char c = i < n ? t.charAt(i) : 0;
                    if (i >= n || separators.indexOf(c) < 0 || sameSeparator && g > 1 && c != first) {
                        return false;
                    }
                    first = g == 1 ? c : first;
                    i++;
                }
                int e = i;
                while (e < n && isDigit(t.charAt(e))) {
                    e++;
                }
                if (openEnd && g == least.length - 1) {
                    return e - i >= least[g] && noLineBreak(t, i + least[g]);
                }
                if (e - i < least[g] || e - i > most[g]) {
                    return false;
                }
                i = e;
            }
            return i == n;
        }

        /** What the regex's "." matches up to the end: no line terminator from {@code from} on. */
        private static boolean noLineBreak(String t, int from) {
            for (int i = from; i < t.length(); i++) {
                char c = t.charAt(i);
                if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                    return false;
                }
            }
            return true;
        }
    }

    /** Anything that could be a written phone number: digits with the usual separators, maybe a "+". */
    static final java.util.regex.Pattern CANDIDATE = CharClasses.compile(
            "(?<![0-9A-Za-z_/.\\-])\\+?\\(?[0-9][0-9 ()\\-./]{4,28}[0-9](?![0-9A-Za-z])");

    private static final String[] CONTEXT = {"phone", "tel", "call", "mobile", "cell", "fax", "whatsapp", "sms", "contact",
        "ruf", "téléphone", "telefon", "handy"};
    private static final int CONTEXT_RADIUS = 32;
    private static final double FORMATTED = 0.85;
    /** A bare digit run: order and account numbers look just like it. */
    static final double BARE = 0.45;
    private static final double CONTEXT_BONUS = 0.3;

    private static final OpenMatch CANDIDATE_OPEN = new OpenMatch(CANDIDATE);

    /**
     * The next match of {@link #CANDIDATE} at or after {@code from}, as {@code Matcher.find(from)}
     * finds it, into {@code span}; false when there is none. Written out, because entering the
     * regex engine near every digit was most of this detector's cost once validation was
     * remembered; {@code StartsFindTest} compares the two. A match's first digit stands at most
     * two chars ("+(") after its start, so only the three positions up to each digit are tried.
     */
    static boolean nextCandidate(String t, int from, int[] span) {
        return nextCandidate(t, from, span, DigitRuns.of(t).cursor());
    }

    /**
     * The same, visiting only the first digit of each run of {@code digits}: a match cannot start
     * after a digit (its look-behind), so every start lies at most two chars before a run's first
     * digit, and the positions up to a later digit of the run were tried with the first one.
     */
    static boolean nextCandidate(String t, int from, int[] span, DigitRuns.Cursor digits) {
        int s = from;
        while (true) {
            int d = digits.nextRun(s);
            if (d < 0) {
                return false;
            }
            // A match starting before the run's first digit opens with "+", "(" or "+(" up to it
            // (a digit two chars before belongs to a run that began before the search or has a
            // digit before it, which the look-behind refuses), so only those starts are tried there:
            // the other two tries per run were a third of this scan on logs and code.
            char before = d > 0 ? t.charAt(d - 1) : 0;
            for (int c = Math.max(s, d - 2); c <= d; c++) {
                boolean opens = c == d
                        || (c == d - 1 ? before == '+' || before == '(' : before == '(' && t.charAt(c) == '+');
                int e = opens ? candidateEnd(t, c) : -1;
                if (e >= 0) {
                    span[0] = c;
                    span[1] = e;
                    return true;
                }
            }
            s = d + 1;
        }
    }

    /** Where a {@link #CANDIDATE} match starting at {@code s} ends, or -1 when none starts there. */
    private static int candidateEnd(String t, int s) {
        int n = t.length();
        if (s > 0 && excludedBefore(t.charAt(s - 1))) {
            return -1;
        }
        int q = s;
        if (q < n && t.charAt(q) == '+') {
            q++;
        }
        if (q < n && t.charAt(q) == '(') {
            q++;
        }
        if (q >= n || !isDigit(t.charAt(q))) {
            return -1;
        }
        // the middle {4,28} is greedy: the longest one that ends before a digit with no letter or digit after it
        int run = 0;
        while (run < 29 && q + 1 + run < n && inMiddle(t.charAt(q + 1 + run))) {
            run++;
        }
        for (int middle = Math.min(28, run - 1); middle >= 4; middle--) {
            int last = q + 1 + middle;
            if (isDigit(t.charAt(last)) && (last + 1 >= n || !isAsciiAlnum(t.charAt(last + 1)))) {
                return last + 1;
            }
        }
        return -1;
    }

    private static boolean excludedBefore(char c) {
        return isAsciiAlnum(c) || c == '_' || c == '/' || c == '.' || c == '-';
    }

    private static boolean inMiddle(char c) {
        return isDigit(c) || c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '/';
    }

    private static boolean isAsciiAlnum(char c) {
        return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private final List<String> regions;
    /** Per region, in order: its digit bound ({@link #digitCountRulesOut}), looked up once, not per candidate and region. */
    private final DigitBound[] bounds;
    /** What every match says it is (built once: it was a list's toString and a concatenation per number reported). */
    private final String description;

    PhoneDetector(List<String> regions) {
        this.regions = List.copyOf(regions);
        this.description = "libphonenumber valid number, regions " + this.regions;
        for (String r : regions) {
            if (!UTIL.getSupportedRegions().contains(r)) {
                throw new IllegalArgumentException("unknown phone region '" + r + "' (use ISO 3166 codes such as US, GB, DE)");
            }
        }
        this.bounds = this.regions.stream().map(r -> BOUNDS.computeIfAbsent(r, PhoneDetector::boundOf)).toArray(DigitBound[]::new);
    }

    @Override
    public String type() {
        return "phone";
    }

    @Override
    public String defaultCategory() {
        return "pii.phone";
    }

    @Override
    public String placeholder() {
        return "PHONE";
    }


    /**
     * libphonenumber's matcher is slow on long texts, and slower again once per region, so it
     * only runs on short windows around digit runs that could be a phone number at all.
     */
    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        scan(text, 0, sink);
    }

    /**
     * Validation is the expensive part (libphonenumber parses each candidate once per region),
     * so a candidate that cannot reach {@code minScore} is left out unvalidated: one without
     * formatting ("+", "(", a separator between digits) and without a context word nearby scores
     * at most {@link #BARE}, below the default threshold; most digit runs in logs and code are
     * such candidates.
     */
    @Override
    public void scan(NormalizedText text, double minScore, Consumer<Match> sink) {
        View view = text.clean;
        if (!text.hasAsciiDigit()) {
            return; // every candidate has [0-9]
        }
        // made for the first candidate that reaches the region loop: most short texts have none
        Answers answers = null;
        int[] span = new int[2];
        DigitRuns.Cursor digitsAt = text.digits(view).cursor();
        for (int at = 0; nextCandidate(view.text, at, span, digitsAt); at = span[1]) {
            int start = span[0];
            int end = span[1];
            int digits = 0;
            for (int i = start; i < end; i++) {
                digits += isDigit(view.text.charAt(i)) ? 1 : 0; // a candidate's chars are ASCII
            }
            if (digits < 6) {
                continue;
            }
            if (!mayReach(view.text, start, end, minScore)) {
                continue;
            }
            String raw = view.text.substring(start, end);
            if (notAPhone(raw)) {
                continue;
            }
            int from = Math.max(0, start - 1);
            String window = view.text.substring(from, Math.min(view.text.length(), end + 1));
            Answers asked = answers = answers != null ? answers : new Answers(regions.size());
            for (Found m : asked.confirmedIn(window, start - from, end == view.text.length(),
                    () -> confirmedNumbers(raw, window, start - from, asked))) {
                report(view, from + m.start(), from + m.end(), m.raw(), m.number(), asked.reported, sink);
            }
        }
    }

    /**
     * The numbers the region loop confirms for the candidate {@code raw}, standing at {@code at} in
     * its window (the candidate and one char either side): for each region in turn, when the
     * candidate is valid there, what libphonenumber's matcher (leniency VALID) finds in the window,
     * which rejects order numbers and other digit runs that merely parse; the first region that
     * finds any decides. Empty when none does.
     */
    private List<Found> confirmedNumbers(String raw, String window, int at, Answers answers) {
        String digitsOnly = digitsOf(raw);
        Object[] valid = null; // this candidate's answers per region, looked up once it is asked of any region
        Object[] found = null;
        for (int r = 0; r < regions.size(); r++) {
            String region = regions.get(r);
            if (!raw.startsWith("+") && digitCountRulesOut(digitsOnly, region, bounds[r])) {
                continue; // too few or too many digits to be valid there (an international number is never ruled out here)
            }
            valid = valid != null ? valid : answers.validByRegion(raw);
            Phonenumber.PhoneNumber number = answers.validIn(valid, r, raw, digitsOnly, region);
            if (number != null) {
                found = found != null ? found : answers.foundByRegion(window);
                List<Found> numbers = answers.numbersIn(found, r, window, region, at, raw, digitsOnly, number);
                if (!numbers.isEmpty()) {
                    return numbers;
                }
            }
            if (raw.startsWith("+")) {
                break; // an international number parses the same in every region
            }
        }
        return List.of();
    }

    /**
     * Whether {@code raw} has too few or too many digits to parse as a valid number with {@code
     * region} as the default region, so that libphonenumber need not be asked (its parse is most of
     * what dense personal data costs, and dates, versions, ids and figures are most of what it is
     * asked about).
     *
     * <p>Why that answer is libphonenumber's: a valid number's national significant number has one
     * of the lengths its region's general description allows (isValidNumber checks them before any
     * pattern), and that region shares the number's country code. Without a "+", the country code
     * is the default region's unless the digits begin with its international (IDD) prefix. Parsing
     * then keeps every digit (the candidate has no extension: it holds only digits, spaces and
     * "()-./") except a national prefix, and the country code written without "+" followed by the
     * national prefix once more; it adds none, unless the default region or the code's main region
     * rewrites its national prefix. So when no IDD prefix leads and neither rewrites, the number is
     * invalid if it has fewer digits than the shortest length any region of the code allows, or
     * more than the longest plus what can be removed (literal national prefixes only, else no upper
     * bound). {@code PhoneDigitsTest} compares this with libphonenumber on every supported region.
     */
    static boolean digitCountRulesOut(String raw, String region) {
        return !raw.startsWith("+") && digitCountRulesOut(digitsOf(raw), region, BOUNDS.computeIfAbsent(region, PhoneDetector::boundOf));
    }

    /** The same for a candidate without "+", given its digits. */
    private static boolean digitCountRulesOut(String digits, String region, DigitBound bound) {
        if (bound.fewest() == 0) {
            return false;
        }
        int count = digits.length();
        boolean tooFew = count < bound.fewest();
        boolean tooMany = bound.nationalPrefix() >= 0 && count - bound.removable(digits) > bound.most();
        return (tooFew || tooMany) && !bound.internationalPrefix().lookingAt(digits);
    }

    /**
     * Per default region: the fewest and most digits a valid number's national significant number
     * has (fewest 0: no bound), its IDD prefix, its country code, and the most digits a national
     * prefix takes (the default region's and the main region's added; -1 when one is a pattern).
     */
    record DigitBound(int fewest, int most, DigitPattern internationalPrefix, String countryCode,
            int nationalPrefix, int mainNationalPrefix) {

        /** The most digits parsing can remove from these: a national prefix, or the country code and one twice. */
        int removable(String digits) {
            // startsWith, not a copy of the first digits compared: this is asked per candidate and region
            return digits.startsWith(countryCode) ? countryCode.length() + nationalPrefix + mainNationalPrefix : nationalPrefix;
        }
    }

    /** Region metadata only, never client text. */
    private static final java.util.concurrent.ConcurrentHashMap<String, DigitBound> BOUNDS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static DigitBound boundOf(String region) {
        var source = com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider.getInstance()
                .getPhoneNumberMetadataSource();
        var own = source.getMetadataForRegion(region);
        var idd = DigitPattern.of(own.getInternationalPrefix());
        int code = own.getCountryCode();
        // the national prefix is removed with the default region's rules, and with those of the
        // code's main region when the digits begin with the country code
        var main = source.getMetadataForRegion(UTIL.getRegionCodeForCountryCode(code));
        var none = new DigitBound(0, 0, idd, "", -1, -1);
        if (!own.getNationalPrefixTransformRule().isEmpty() || main == null || !main.getNationalPrefixTransformRule().isEmpty()) {
            return none; // a rewrite that may add digits
        }
        int fewest = Integer.MAX_VALUE;
        int most = 0;
        for (String r : UTIL.getRegionCodesForCountryCode(code)) {
            var metadata = "001".equals(r) ? source.getMetadataForNonGeographicalRegion(code) : source.getMetadataForRegion(r);
            List<Integer> lengths = metadata == null ? List.of() : metadata.getGeneralDesc().getPossibleLengthList();
            if (lengths.isEmpty()) {
                return none; // no length to go by
            }
            for (int length : lengths) {
                fewest = Math.min(fewest, length);
                most = Math.max(most, length);
            }
        }
        int ownPrefix = literalLength(own.getNationalPrefixForParsing());
        int mainPrefix = literalLength(main.getNationalPrefixForParsing());
        return new DigitBound(fewest == Integer.MAX_VALUE ? 0 : fewest, most, idd, String.valueOf(code),
                ownPrefix < 0 || mainPrefix < 0 ? -1 : ownPrefix, mainPrefix);
    }

    /** The ASCII digits of {@code raw}, in order. */
    static String digitsOf(String raw) {
        char[] out = new char[raw.length()];
        int k = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (isDigit(c)) {
                out[k++] = c;
            }
        }
        return new String(out, 0, k);
    }

    /**
     * Whether a candidate without "+" whose digits are {@code digits} parses as a valid number of
     * {@code region}, answered without libphonenumber's parse where parsing would only read the
     * digits ({@link PhoneDigits}); null when it must be asked.
     */
    static Boolean validFromDigits(String digits, String region) {
        Phonenumber.PhoneNumber number = fromDigits(digits, region);
        return number == null ? null : UTIL.isValidNumber(number);
    }

    /** The number {@code parseAndKeepRawInput} makes of a candidate without "+" whose digits are {@code digits}, or null: {@link PhoneDigits}. */
    static Phonenumber.PhoneNumber fromDigits(String digits, String region) {
        return PhoneDigits.number(digits, region);
    }

    /**
     * Whether libphonenumber's matcher can neither begin a number at {@code c}, the char before a
     * candidate, nor refuse the candidate for it: ASCII, no letter or digit, no opening bracket or
     * "+" (where its pattern may begin), no "%" or "$" (which it refuses a number next to).
     */
    static boolean quietBefore(char c) {
        return quietAfter(c) && c != '(' && c != '[' && c != '+';
    }

    /**
     * Whether the char after a candidate neither joins the number (no digit follows it in the
     * window, so the matcher's pattern cannot read on through it) nor makes the matcher refuse it:
     * ASCII, no letter or digit, no "%" or "$".
     */
    static boolean quietAfter(char c) {
        return c < 128 && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') && c != '%' && c != '$';
    }

    /** libphonenumber's bracket rule for a candidate whose only brackets are ASCII parentheses. */
    private static final java.util.regex.Pattern BRACKETS_MATCH =
            java.util.regex.Pattern.compile("\\(?(?:[^()]+\\))?[^()]+(?:\\([^()]+\\)){0,3}[^()]*");
    /** A date written with slashes ("12/31/2026"), which its matcher refuses a candidate for whatever else it holds. */
    private static final java.util.regex.Pattern SLASH_DATE =
            java.util.regex.Pattern.compile("(?:(?:[0-3]?\\d/[01]?\\d)|(?:[01]?\\d/[0-3]?\\d))/(?:[12]\\d)?\\d{2}");
    /** Publication pages ("211-227 (2003)"), which its matcher refuses. */
    private static final java.util.regex.Pattern PAGES = CharClasses.compile("[0-9]{1,5}-+[0-9]{1,5}\\s{0,4}\\([0-9]{1,4}");

    /**
     * Whether {@link #PAGES} finds a page range in {@code raw}. Each of its finds holds a "-" with
     * a "(" after it, so the regex is entered only then: a number written "(305) 511-0715" has its
     * only bracket first, and searching it from every start was most of what its window cost.
     */
    static boolean pageRange(String raw) {
        int hyphen = raw.indexOf('-');
        return hyphen >= 0 && raw.indexOf('(', hyphen) >= 0 && PAGES.matcher(raw).find();
    }

    /** The regex's own answer, for tests. */
    static boolean pagesFind(String raw) {
        return PAGES.matcher(raw).find();
    }

    /** What libphonenumber's matcher finds in a candidate's window, where that is certain. */
    enum Window {
        /** One number: the whole candidate, as parsed. */
        WHOLE,
        /** No number. */
        NOTHING,
        /** Not certain: ask the matcher. */
        ASK
    }

    /**
     * What libphonenumber's matcher (leniency VALID) finds when run on the candidate [start, end)
     * of {@code t} and one char either side (the window the detector gives it), given that the
     * candidate, whose digits are {@code digits}, parses with {@code region} as the default region
     * to {@code number} and that number is valid.
     *
     * <p>Why the answer is the matcher's (9.0.19's {@code PhoneNumberMatcher}): its pattern
     * begins a number at a "+", an opening bracket or a digit, and the char before is none of
     * these ({@link #quietBefore}), so it begins at the candidate's start; the candidate is a "+"
     * or "(", digits, and runs of at most four of " ()-./" (all its punctuation), so the greedy
     * pattern reads to its last digit, and not past it, since no digit follows in the window. A
     * candidate holding a date written with slashes is refused before anything else (nothing). The
     * candidate has no "x" (nothing trimmed as a second number after a "/", no
     * carrier code or extension to check), its brackets pass the bracket rule and it holds no
     * page range; a time stamp would need ":" and two digits after it, which the window lacks. The
     * chars either side are neither Latin letters nor "%" nor currency signs ({@link #quietAfter}).
     * What is left of leniency VALID is the valid number, checked, and that a national prefix is
     * present where the number's format requires one ({@link #nationalPrefix}). When it is, the whole candidate is
     * the one number (nothing after it in the window can begin another). When it is required and
     * absent, the whole is refused and the matcher looks for numbers inside the candidate, split at
     * "/", brackets, a spaced hyphen, dots or spaces: a candidate of digits and "-" alone has none
     * of these, so nothing is found. {@code PhoneWindowTest} compares this with the matcher.
     */
    static Window matcherFinds(String t, int start, int end, String raw, String digits, Phonenumber.PhoneNumber number,
            String region) {
        if (start > 0 && !quietBefore(t.charAt(start - 1)) || end < t.length() && !quietAfter(t.charAt(end))) {
            return Window.ASK;
        }
        boolean brackets = false;
        boolean slash = false;
        boolean onlyHyphens = true;
        int punctuation = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (isDigit(c)) {
                punctuation = 0;
            } else if (++punctuation > 4) {
                return Window.ASK;
            } else {
                brackets |= c == '(' || c == ')';
                slash |= c == '/';
                onlyHyphens &= c == '-';
            }
        }
        if (slash && SLASH_DATE.matcher(raw).find()) {
            return Window.NOTHING; // refused as a date before anything else, and nothing inside it is tried
        }
        if (brackets && (!BRACKETS_MATCH.matcher(raw).matches() || pageRange(raw))) {
            return refusedWhole(raw, region); // refused for its brackets or a page range
        }
        return switch (nationalPrefix(number, digits, region)) {
            case PRESENT_OR_NOT_REQUIRED -> Window.WHOLE;
            case MISSING -> onlyHyphens ? Window.NOTHING : refusedWhole(raw, region);
            case UNKNOWN -> Window.ASK;
        };
    }

    /**
     * What the matcher finds in the window of a candidate it refuses whole: the numbers inside it
     * ({@code extractInnerMatch}). It splits the candidate with its inner-match patterns and
     * parses and verifies each piece: the text before a pattern's first find and each find's group.
     * When every such piece is certainly refused, nothing is found (the search then goes on after
     * the candidate, where the window holds no digit). Certainly refused: fewer than two digits (not
     * viable), too few or too many digits ({@link #digitCountRulesOut}), or a number from the digits
     * ({@link PhoneDigits}) that {@link PhoneValidity} calls invalid or that lacks a required
     * national prefix. Trimming a piece's end only removes punctuation,
     * so its digits are the group's. Anything else, or a "+" (a piece with it parses otherwise), is
     * left to the matcher. Most such windows are figures ("2866.46", "20.4 / 28.0") valid in
     * Germany as numbers without the trunk 0, and asking the matcher was most of what they cost.
     */
    private static Window refusedWhole(String raw, String region) {
        if (raw.startsWith("+")) {
            return Window.ASK;
        }
        for (int p = 0; p < INNER_MATCHES.length; p++) {
            if (!innerMayFind(p, raw)) {
                continue; // the char every find of it holds is missing: no matcher made for nothing
            }
            var m = INNER_MATCHES[p].matcher(raw);
            boolean first = true;
            while (m.find()) {
                if (first && !certainlyRefused(digitsOf(raw.substring(0, m.start())), region)
                        || !certainlyRefused(digitsOf(m.group(1)), region)) {
                    return Window.ASK;
                }
                first = false;
            }
        }
        return Window.NOTHING;
    }

    /**
     * Whether the matcher certainly refuses a piece of a candidate with these digits (no "+"): it
     * cannot parse to a valid number of {@code region}, or it does and lacks a national prefix its
     * format requires (leniency VALID's last check, {@link #nationalPrefix}, on the piece's digits).
     */
    private static boolean certainlyRefused(String digits, String region) {
        if (digits.length() < 2 || digitCountRulesOut(digits, region, BOUNDS.computeIfAbsent(region, PhoneDetector::boundOf))) {
            return true;
        }
        Phonenumber.PhoneNumber number = fromDigits(digits, region);
        return number != null && (!PhoneValidity.isValid(number) || nationalPrefix(number, digits, region) == Prefix.MISSING);
    }

    /**
     * libphonenumber's matcher's inner-match patterns (9.0.19), in its order: after slashes, from an
     * opening bracket, after a spaced hyphen, after a wide hyphen, after full stops, after spaces.
     */
    static final java.util.regex.Pattern[] INNER_MATCHES = {
        java.util.regex.Pattern.compile("/+(.*)"),
        java.util.regex.Pattern.compile("(\\([^(]*)"),
        java.util.regex.Pattern.compile("(?:\\p{Z}-|-\\p{Z})\\p{Z}*(.+)"),
        java.util.regex.Pattern.compile("[\u2012-\u2015\uFF0D]\\p{Z}*(.+)"),
        java.util.regex.Pattern.compile("\\.+\\p{Z}*([^.]+)"),
        java.util.regex.Pattern.compile("\\p{Z}+(\\P{Z}+)")
    };

    /**
     * Whether inner-match pattern {@code p} ({@link #INNER_MATCHES}) may find something in {@code
     * raw}: false when a char every find of it holds is missing ("/", "(", "-", "." for the ASCII
     * ones; a space or a char above U+007F for "\p{Z}"; a char above U+007F for the wide hyphens).
     * Most refused candidates are figures with a dot or a space, and each pattern made a matcher.
     */
    static boolean innerMayFind(int p, String raw) {
        return switch (p) {
            case 0 -> raw.indexOf('/') >= 0;
            case 1 -> raw.indexOf('(') >= 0;
            case 2 -> raw.indexOf('-') >= 0;
            case 4 -> raw.indexOf('.') >= 0;
            case 5 -> raw.indexOf(' ') >= 0 || !isAscii(raw);
            default -> !isAscii(raw);
        };
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    enum Prefix { PRESENT_OR_NOT_REQUIRED, MISSING, UNKNOWN }

    /**
     * The matcher's check that a national prefix is present where the number's format requires
     * one: not required when the country code was written, or when the format chosen for the
     * national number asks for none (no rule, optional, or only the first group). When required,
     * present when parsing removed one (the national number is shorter than the digits: parsing
     * strips with the default region's metadata, the matcher checks with the main region's, so
     * only when the two are one), missing when the main region's national prefix pattern does not
     * match at the digits' start (the check strips nothing), and unknown otherwise.
     */
    static Prefix nationalPrefix(Phonenumber.PhoneNumber number, String digits, String region) {
        if (number.getCountryCodeSource() != Phonenumber.PhoneNumber.CountryCodeSource.FROM_DEFAULT_COUNTRY) {
            return Prefix.PRESENT_OR_NOT_REQUIRED;
        }
        Formats formats = FORMATS.get(number.getCountryCode());
        String national = PhoneValidity.nationalSignificantNumber(number);
        Format chosen = formats.chosen(national);
        if (chosen == null || !chosen.requiresPrefix()) {
            return Prefix.PRESENT_OR_NOT_REQUIRED; // no format (nothing to require), or one that asks for none
        }
        if (formats.main().equals(region) && national.length() < digits.length()) {
            return Prefix.PRESENT_OR_NOT_REQUIRED;
        }
        var prefix = formats.nationalPrefixForParsing();
        return prefix == null || !prefix.lookingAt(digits) ? Prefix.MISSING : Prefix.UNKNOWN;
    }

    /**
     * One number format of a calling code's main region: its last leading-digits pattern (null:
     * none), its pattern (matched whole) and whether it requires a national prefix (a formatting
     * rule that is neither optional nor only the first group); the patterns asked by automata.
     */
    record Format(DigitPattern leading, DigitPattern pattern, boolean requiresPrefix) {

        static Format of(com.google.i18n.phonenumbers.Phonemetadata.NumberFormat format) {
            int leading = format.getLeadingDigitsPatternCount();
            String rule = format.getNationalPrefixFormattingRule();
            return new Format(leading == 0 ? null : DigitPattern.of(format.getLeadingDigitsPattern(leading - 1)),
                    DigitPattern.of(format.getPattern()),
                    !rule.isEmpty() && !format.getNationalPrefixOptionalWhenFormatting() && !FIRST_GROUP_ONLY.matcher(rule).matches());
        }

        /** What the matcher's format choice asks of a national number: its leading digits at the start, its pattern whole. */
        boolean fits(String national) {
            return (leading == null || leading.lookingAt(national)) && pattern.matches(national);
        }
    }

    /**
     * A calling code's main region (its code, its formats in order, its national prefix for
     * parsing; null: none) and, per three-digit start of a national number, the formats that can
     * fit a longer number with that start, in order: the others' leading digits fail on the three
     * digits without reading to their end ({@link PhoneValidity#leadingState}), or their pattern
     * cannot match a longer string with that start ({@link PhoneValidity#cannotMatchAfter}), so
     * asking them would answer no. A format whose leading digits match the three digits already is
     * marked, and only its pattern is asked. Dense personal data asked every format of the main
     * region in turn for each valid candidate (both regexes through a map of compiled patterns).
     */
    record Formats(String main, List<Format> formats, DigitPattern nationalPrefixForParsing, int[][] candidates) {

        /** In {@link #candidates}: the format's index shifted left by one, this bit set when its leading digits always match. */
        private static final int ALWAYS = 1;

        static Formats of(int code) {
            String main = UTIL.getRegionCodeForCountryCode(code);
            var metadata = com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider.getInstance()
                    .getPhoneNumberMetadataSource().getMetadataForRegion(main);
            if (metadata == null) {
                return new Formats(main, List.of(), null, new int[PhoneValidity.ROWS][0]);
            }
            List<Format> formats = metadata.getNumberFormatList().stream().map(Format::of).toList();
            String prefix = metadata.getNationalPrefixForParsing();
            int[][] candidates = new int[PhoneValidity.ROWS][];
            for (int row = 0; row < PhoneValidity.ROWS; row++) {
                String start = PhoneValidity.start(row);
                int[] list = new int[formats.size()];
                int k = 0;
                for (int f = 0; f < formats.size(); f++) {
                    Format format = formats.get(f);
                    PhoneValidity.State state = format.leading() == null ? PhoneValidity.State.ALWAYS
                            : PhoneValidity.leadingState(format.leading().regex(), start);
                    if (state != PhoneValidity.State.NEVER && !PhoneValidity.cannotMatchAfter(format.pattern().regex(), start)) {
                        list[k++] = f << 1 | (state == PhoneValidity.State.ALWAYS ? ALWAYS : 0);
                    }
                }
                candidates[row] = java.util.Arrays.copyOf(list, k);
            }
            return new Formats(main, formats, prefix.isEmpty() ? null : DigitPattern.of(prefix), candidates);
        }

        /** The first format that fits {@code national} (the matcher's choice), or null. */
        Format chosen(String national) {
            if (national.length() <= PhoneValidity.DIGITS) {
                for (Format format : formats) { // the tables speak for longer numbers only
                    if (format.fits(national)) {
                        return format;
                    }
                }
                return null;
            }
            for (int c : candidates[PhoneValidity.row(national)]) {
                Format format = formats.get(c >>> 1);
                if (((c & ALWAYS) != 0 || format.leading().lookingAt(national)) && format.pattern().matches(national)) {
                    return format;
                }
            }
            return null;
        }
    }

    /** Per country calling code; metadata only, never client text. */
    private static final ByCallingCode<Formats> FORMATS = new ByCallingCode<>(Formats::of);

    /** A national prefix formatting rule that only wraps the first group (maybe in brackets). */
    private static final java.util.regex.Pattern FIRST_GROUP_ONLY = java.util.regex.Pattern.compile("\\(?\\$1\\)?");

    /** How many digits a national prefix pattern removes when it is a plain digit string (none: 0); -1 for a pattern. */
    private static int literalLength(String pattern) {
        return pattern.isEmpty() ? 0 : pattern.matches("[0-9]+") ? pattern.length() : -1;
    }

    /**
     * libphonenumber's answers for one scan: both are pure functions of their arguments, and the
     * same digit runs (dates, versions, ports) recur through logs and documents, so each is asked
     * once per text. They live only as long as the scan: client text is never kept across requests
     * or shared between tenants (a shared cache would also let one tenant time another's numbers).
     */
    private static final class Answers {
        /** Per candidate: per region, the valid number it parses to, {@link #INVALID}, or null (not asked yet). */
        private final Map<String, Object[]> valid = new HashMap<>();
        /** Per window: per region, what the matcher finds in it, or null (not asked yet). */
        private final Map<String, Object[]> found = new HashMap<>();
        private final Map<String, List<Found>> confirmed = new HashMap<>();
        /** The spans reported in this scan (start and end packed), each reported once. */
        final Set<Long> reported = new HashSet<>();
        private final int regions;

        /** A candidate that is no valid number of a region (or does not parse). */
        private static final Object INVALID = new Object();

        Answers(int regions) {
            this.regions = regions;
        }

        /** The answers per region for candidate {@code raw}: one look-up per candidate, not one per region with a key made of both. */
        Object[] validByRegion(String raw) {
            return valid.computeIfAbsent(raw, key -> new Object[regions]);
        }

        /** The answers per region for a window. */
        Object[] foundByRegion(String window) {
            return found.computeIfAbsent(window, key -> new Object[regions]);
        }

        /**
         * What the region loop confirms for a candidate, by its window: the window, where the
         * candidate begins in it ({@code at}: 0 or 1) and whether the text ends with the candidate
         * determine the candidate, so the loop's answer too. Logs and documents repeat the same
         * dates and figures ("2025-11" of every time stamp, valid in some regions), and each
         * repeat walked every region's answers again: a key per region, a look-up, the window.
         */
        List<Found> confirmedIn(String window, int at, boolean atEnd, java.util.function.Supplier<List<Found>> loop) {
            String key = (char) (at | (atEnd ? 2 : 0)) + window;
            List<Found> answer = confirmed.get(key);
            if (answer == null) {
                answer = loop.get();
                confirmed.put(key, answer);
            }
            return answer;
        }

        /**
         * The number {@code raw} (whose digits are {@code digits}) parses to with {@code region} as
         * the default region, as {@code parseAndKeepRawInput} gives it (its country code source
         * set), when that number is valid; null when it is not or does not parse. Asked once per
         * candidate and region: {@code byRegion} is the candidate's answers ({@link #validByRegion}).
         */
        Phonenumber.PhoneNumber validIn(Object[] byRegion, int r, String raw, String digits, String region) {
            Object answer = byRegion[r];
            if (answer == null) {
                Phonenumber.PhoneNumber number = validNumber(raw, digits, region);
                answer = number != null ? number : INVALID;
                byRegion[r] = answer;
            }
            return answer == INVALID ? null : (Phonenumber.PhoneNumber) answer;
        }

        /** The valid number {@code raw} parses to with {@code region} as the default region, or null. */
        private static Phonenumber.PhoneNumber validNumber(String raw, String digits, String region) {
            boolean plus = raw.startsWith("+");
            Phonenumber.PhoneNumber direct = plus ? PhoneDigits.withPlus(digits) : fromDigits(digits, region);
            if (direct != null) {
                return PhoneValidity.isValid(direct) ? direct : null;
            }
            if (!plus && PhoneDigits.tooLongToParse(digits, region)) {
                return null; // parsing would refuse it
            }
            try {
                var parsed = UTIL.parseAndKeepRawInput(raw, region);
                return PhoneValidity.isValid(parsed) ? parsed : null;
            } catch (NumberParseException notANumber) {
                return null;
            }
        }

        /**
         * What libphonenumber's matcher (leniency VALID) finds in a candidate's window, the
         * candidate {@code raw} standing at {@code at} and parsing to the valid {@code number}:
         * without the matcher where its answer is certain ({@link #matcherFinds}; its runs were most
         * of what dense personal data cost), else from it.
         */
        @SuppressWarnings("unchecked")
        List<Found> numbersIn(Object[] byRegion, int r, String window, String region, int at, String raw, String digits,
                Phonenumber.PhoneNumber number) {
            // every answer is the matcher's on the window, so it depends on the window alone (a window
            // read from its first char or its second gives the same numbers, whichever candidate asks)
            if (byRegion[r] == null) {
                byRegion[r] = switch (matcherFinds(window, at, at + raw.length(), raw, digits, number, region)) {
                    case WHOLE -> List.of(new Found(at, at + raw.length(), raw, number));
                    case NOTHING -> List.of();
                    case ASK -> {
                        List<Found> list = new ArrayList<>();
                        for (PhoneNumberMatch m : UTIL.findNumbers(window, region, PhoneNumberUtil.Leniency.VALID, 16)) {
                            list.add(new Found(m.start(), m.end(), m.rawString(), m.number()));
                        }
                        yield List.copyOf(list);
                    }
                };
            }
            return (List<Found>) byRegion[r];
        }
    }

    /** A number the matcher finds in a window: its span there, its text and the number. */
    private record Found(int start, int end, String raw, Phonenumber.PhoneNumber number) {
    }

    /**
     * The highest score {@link #report} could give a number found in this candidate's window (the
     * candidate and one char either side, where libphonenumber looks): formatting anywhere in the
     * window, a context word anywhere within the context radius before it or inside it.
     */
    private static double maxScore(String t, int start, int end) {
        return Math.min(1.0, (formatted(t, start, end) ? FORMATTED : BARE) + (contextNear(t, start, end) ? CONTEXT_BONUS : 0));
    }

    /**
     * Whether {@link #maxScore} reaches {@code minScore}, the context words looked for only when
     * formatting alone does not decide it (they cost a copy and a search per word).
     */
    private static boolean mayReach(String t, int start, int end, double minScore) {
        double base = formatted(t, start, end) ? FORMATTED : BARE;
        return Math.min(1.0, base) >= minScore || maxScore(t, start, end) >= minScore;
    }

    /** Formatting anywhere in the candidate's window ("+", "(", a separator between digits). */
    private static boolean formatted(String t, int start, int end) {
        int from = Math.max(0, start - 1);
        int to = Math.min(t.length(), end + 1);
        boolean formatted = false;
        for (int i = from; i < to && !formatted; i++) {
            char c = t.charAt(i);
            formatted = c == '+' || c == '(' || ((c == ' ' || c == '-' || c == '.' || c == ')') && i > from && i + 1 < to
                    && isDigit(t.charAt(i - 1)) && isDigit(t.charAt(i + 1)));
        }
        return formatted;
    }

    /** A context word anywhere within the context radius before the candidate's window or inside it. */
    private static boolean contextNear(String t, int start, int end) {
        int from = Math.max(0, start - 1);
        int to = Math.min(t.length(), end + 1);
        String near = t.substring(Math.max(0, from - CONTEXT_RADIUS), to).toLowerCase(java.util.Locale.ROOT);
        for (String w : CONTEXT) {
            if (near.contains(w)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * A candidate that runs into the end of the text may still grow; one that ends before it is
     * final together with the char after it, the most libphonenumber looks at.
     */
    @Override
    public int holdFrom(NormalizedText text, int from) {
        View view = text.clean;
        return OpenMatch.original(view, text, CANDIDATE_OPEN.from(view.text, view.countBefore(from)));
    }

    /**
     * Whether {@code raw} matches {@code .*[0-9][ \-.)][0-9].*} whole: two digits with a space, "-",
     * "." or ")" between them, and no line terminator (what "." does not match) anywhere. Read by
     * hand (the regex was entered for every number reported); {@code DetectorsTest} compares the two.
     */
    static boolean separated(String raw) {
        boolean found = false;
        for (int i = 0, n = raw.length(); i < n; i++) {
            char c = raw.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return false;
            }
            if (!found && i + 2 < n && isDigit(c) && isDigit(raw.charAt(i + 2))) {
                char between = raw.charAt(i + 1);
                found = between == ' ' || between == '-' || between == '.' || between == ')';
            }
        }
        return found;
    }

    private void report(View view, int s, int e, String raw, Phonenumber.PhoneNumber number, Set<Long> seen,
            Consumer<Match> sink) {
        if (!seen.add(((long) s << 32) | e) || notAPhone(raw)) {
            return;
        }
        boolean formatted = raw.startsWith("+") || raw.startsWith("(") || separated(raw);
        boolean context = PatternDetector.contextBefore(view.text, s, CONTEXT_RADIUS, CONTEXT);
        double score = formatted ? FORMATTED : BARE;
        if (context) {
            score += CONTEXT_BONUS;
        }
        sink.accept(new Match(view.originalStart(s), view.originalEnd(e - 1), Math.min(1.0, score), view.name,
                description, "+" + number.getCountryCode()
                        + number.getNationalNumber()));
    }
}
