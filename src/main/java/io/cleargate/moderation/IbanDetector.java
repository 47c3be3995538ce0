package io.cleargate.moderation;

import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IBANs: country code, two check digits and the country's exact length of account characters,
 * optionally in groups of four, verified with ISO 7064 mod 97-10.
 */
final class IbanDetector implements Detector {

    static final Pattern START = CharClasses.compile("(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?=[ ]?[A-Za-z0-9])");

    @Override
    public String type() {
        return "iban";
    }

    @Override
    public String defaultCategory() {
        return "pii.iban";
    }

    @Override
    public String placeholder() {
        return "IBAN";
    }


    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        if (!text.hasAsciiDigit()) {
            return; // every IBAN starts with two letters and two [0-9] check digits
        }
        scanView(text.clean, text.digits(text.clean), 1.0, sink);
        scanView(text.compact(), text.digits(text.compact()), 0.9, sink);
    }

    private static final OpenMatch START_OPEN = new OpenMatch(START);

    /**
     * Where {@code START.matcher(t).find(from)} finds its next match (which is four chars long),
     * or -1: written out, looking only at pairs of digits, because entering the regex engine
     * near every digit was most of this detector's cost; {@code StartsFindTest} compares the two.
     */
    static int nextStart(String t, int from) {
        return nextStart(t, from, DigitRuns.of(t).cursor());
    }

    /** The same, visiting only the digits {@code digits} names. */
    static int nextStart(String t, int from, DigitRuns.Cursor digits) {
        int n = t.length();
        // the first check digit follows a letter, so it begins a run of digits: only run starts are visited
        for (int p = digits.nextRun(from + 2); p >= 0 && p + 1 < n; p = digits.nextRun(p + 1)) {
            if (!digit(t.charAt(p + 1))) {
                continue;
            }
            int s = p - 2;
            if (!letter(t.charAt(s)) || !letter(t.charAt(s + 1)) || (s > 0 && alnum(t.charAt(s - 1)))) {
                continue;
            }
            int after = p + 2;
            if (after < n && t.charAt(after) == ' ') {
                after++;
            }
            if (after < n && alnum(t.charAt(after))) {
                return s;
            }
        }
        return -1;
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean letter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean alnum(char c) {
        return digit(c) || letter(c);
    }

    /**
     * Open: a country-and-check-digits start still being written, or an IBAN whose account part
     * runs into the end of the text (more characters, or the boundary after it, are to come).
     */
    @Override
    public int holdFrom(NormalizedText text, int from) {
        return Math.min(OpenMatch.original(text.clean, text, openStart(text.clean.text, text.clean.countBefore(from))),
                OpenMatch.original(text.compact(), text, openStart(text.compact().text, text.compact().countBefore(from))));
    }

    private static int openStart(String t, int from) {
        int open = START_OPEN.from(t, from);
        Matcher m = START.matcher(t);
        int at = from;
        while (at < open && m.find(at)) {
            int s = m.start();
            if (s >= open) {
                break;
            }
            Integer length = Checksums.IBAN_LENGTHS.get(t.substring(s, s + 2).toUpperCase(Locale.ROOT));
            if (length != null && accountReachesEnd(t, s + 4, length - 4)) {
                return s;
            }
            at = m.end();
        }
        return open;
    }

    /** Whether collecting {@code chars} account characters from {@code i}, as scanView does, runs out of text. */
    private static boolean accountReachesEnd(String t, int i, int chars) {
        int n = t.length();
        while (chars > 0 && i < n) {
            char c = t.charAt(i);
            if (Character.isLetterOrDigit(c) && c < 0x80) {
                chars--;
                i++;
            } else if (c == ' ' && (i + 1 >= n || Character.isLetterOrDigit(t.charAt(i + 1)))) {
                i++;
            } else {
                return false;
            }
        }
        return i >= n;
    }

    private void scanView(View view, DigitRuns digits, double weight, Consumer<Match> sink) {
        String t = view.text;
        DigitRuns.Cursor next = digits.cursor();
        int resumeAt = 0;
        for (int begin = nextStart(t, 0, next); begin >= 0; begin = nextStart(t, resumeAt, next)) {
            resumeAt = begin + 4;
            String country = t.substring(begin, begin + 2).toUpperCase(Locale.ROOT);
            Integer length = Checksums.IBAN_LENGTHS.get(country);
            if (length == null) {
                continue;
            }
            var iban = new StringBuilder(length).append(country).append(t, begin + 2, begin + 4);
            int i = begin + 4;
            int end = i;
            while (iban.length() < length && i < t.length()) {
                char c = t.charAt(i);
                if (Character.isLetterOrDigit(c) && c < 0x80) {
                    iban.append(Character.toUpperCase(c));
                    end = ++i;
                } else if (c == ' ' && i + 1 < t.length() && Character.isLetterOrDigit(t.charAt(i + 1))) {
                    i++;
                } else {
                    break;
                }
            }
            boolean boundary = end >= t.length() || !Character.isLetterOrDigit(t.charAt(end));
            if (iban.length() == length && boundary && Checksums.ibanValid(iban.toString())) {
                sink.accept(new Match(view.originalStart(begin), view.originalEnd(end - 1), weight, view.name,
                        "IBAN with country length and mod-97 check", iban.toString()));
                resumeAt = end;
            }
        }
    }
}
