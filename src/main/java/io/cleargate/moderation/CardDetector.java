package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Payment card numbers: 13 to 19 digits, optionally grouped by spaces, dashes or dots, that pass
 * the Luhn check and start with a known issuer prefix. A run of digit groups longer than a card
 * (a card number followed by an expiry date, say) is searched for the card inside it, group by
 * group, so a neighbouring number cannot hide it.
 */
final class CardDetector implements Detector {

    static final Pattern RUN = CharClasses.compile("(?<![0-9])[0-9]++(?:[ \\-.]?+[0-9]++)*+");

    @Override
    public String type() {
        return "card";
    }

    @Override
    public String defaultCategory() {
        return "pii.card";
    }

    @Override
    public String placeholder() {
        return "CARD";
    }


    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        if (!text.hasAsciiDigit()) {
            return; // every card number is a run of [0-9]
        }
        scanView(text.clean, text.digits(text.clean), 1.0, sink);
        scanView(text.compact(), text.digits(text.compact()), 0.9, sink);
    }

    /**
     * A card is looked for from each digit group over the next 19 digits, so the groups within
     * the last 20 digits of a trailing run (and a trailing separator, which more digits may
     * follow) are still open; a group further back already sees all the digits it ever will.
     */
    @Override
    public int holdFrom(NormalizedText text, int from) {
        return Math.min(OpenMatch.original(text.clean, text, openGroup(text.clean.text, text.clean.countBefore(from))),
                OpenMatch.original(text.compact(), text, openGroup(text.compact().text,
                        text.compact().countBefore(from))));
    }

    static int openGroup(String t, int from) {
        int n = t.length();
        int i = n;
        if (i > 0 && isSeparator(t.charAt(i - 1))) {
            i--;
        }
        if (i <= from || !isAsciiDigit(t.charAt(i - 1))) {
            return n;
        }
        int digits = 0;
        int start = i;
        while (i > from) {
            int g = i;
            while (g > 0 && isAsciiDigit(t.charAt(g - 1))) {
                g--;
            }
            digits += i - g;
            start = g;
            if (digits > 19 || g < 2 || !isSeparator(t.charAt(g - 1)) || !isAsciiDigit(t.charAt(g - 2))) {
                break;
            }
            i = g - 1;
        }
        return Math.max(from, start);
    }

    private static boolean isSeparator(char c) {
        return c == ' ' || c == '-' || c == '.';
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void scanView(View view, DigitRuns digits, double weight, Consumer<Match> sink) {
        String t = view.text;
        chains(t, digits, (s, e) -> {
            if (e - s >= 13 && digitCount(t, s, e) >= 13) { // a card has at least 13 digits: most runs are over here
                List<int[]> groups = groups(t, s, e);
                int from = 0;
                while (from < groups.size()) {
                    int found = findCard(t, groups, from, view, weight, sink);
                    from = found > from ? found : from + 1;
                }
            }
        });
    }

    /**
     * Every {@link #RUN} match, as {@link Matcher#find()} finds them: each is a chain of digit runs,
     * each after one separator, so it is read from the view's digit runs (one char per gap between
     * them) instead of char by char. {@code StartsFindTest} compares the chains with the regex.
     */
    static void chains(String t, DigitRuns digits, PrivateKeyScanner.Sink sink) {
        int runs = digits.count();
        for (int k = 0; k < runs; ) {
            int s = digits.start(k);
            int e = digits.end(k);
            int j = k + 1;
            while (j < runs && digits.start(j) == e + 1 && isSeparator(t.charAt(e))) {
                e = digits.end(j++);
            }
            sink.accept(s, e);
            k = j;
        }
    }

    /** Every run as {@link Matcher#find()} finds {@link #RUN}'s matches (for tests: the chains of its digit runs). */
    static void runs(String t, PrivateKeyScanner.Sink sink) {
        chains(t, DigitRuns.of(t), sink);
    }

    /** Tries the longest card starting at group {@code from}; returns the group after it, or from when none. */
    private int findCard(String t, List<int[]> groups, int from, View view, double weight, Consumer<Match> sink) {
        var digits = new StringBuilder();
        int best = -1;
        String bestDigits = null;
        for (int to = from; to < groups.size(); to++) {
            int[] g = groups.get(to);
            digits.append(t, g[0], g[1]);
            if (digits.length() > 19) {
                break;
            }
            if (digits.length() >= 13 && Checksums.luhn(digits) && Checksums.knownCardIssuer(digits)) {
                best = to;
                bestDigits = digits.toString();
            }
        }
        if (best < 0) {
            return from;
        }
        int s = groups.get(from)[0];
        int e = groups.get(best)[1];
        sink.accept(new Match(view.originalStart(s), view.originalEnd(e - 1), weight, view.name,
                "13-19 digits, Luhn-valid, known issuer prefix", bestDigits));
        return best + 1;
    }

    private static int digitCount(String t, int start, int end) {
        int digits = 0;
        for (int i = start; i < end; i++) {
            digits += isAsciiDigit(t.charAt(i)) ? 1 : 0;
        }
        return digits;
    }

    private static List<int[]> groups(String t, int start, int end) {
        var groups = new ArrayList<int[]>();
        int i = start;
        while (i < end) {
            int s = i;
            while (i < end && Character.isDigit(t.charAt(i))) {
                i++;
            }
            groups.add(new int[] {s, i});
            while (i < end && !Character.isDigit(t.charAt(i))) {
                i++;
            }
        }
        return groups;
    }
}
