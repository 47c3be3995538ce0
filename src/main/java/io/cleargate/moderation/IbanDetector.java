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

    static final Pattern START = Pattern.compile("(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?=[ ]?[A-Za-z0-9])");

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
        scanView(text.clean, 1.0, sink);
        scanView(text.compact(), 0.9, sink);
    }

    private static final OpenMatch START_OPEN = new OpenMatch(START);
    /** The check digits stand two chars after an IBAN's start. */
    static final Starts START_STARTS = Starts.anchored(Starts.DIGITS, 2);

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

    private void scanView(View view, double weight, Consumer<Match> sink) {
        String t = view.text;
        Matcher matcher = START_OPEN.matcher(t);
        Starts.Cursor starts = START_STARTS.open(t);
        int[] m = new int[2];
        int resumeAt = 0;
        while (START_OPEN.next(t, resumeAt, starts, matcher, m)) {
            resumeAt = m[1];
            int begin = m[0];
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
