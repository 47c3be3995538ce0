package io.cleargate.moderation;

/**
 * Finds PEM/OpenSSH/PGP private key blocks in one pass, without backtracking. It matches exactly
 * what this regular expression (case-insensitive, Java semantics) matches:
 * <pre>
 * header = -{3,}\s*BEGIN[ A-Z0-9]{0,40}?PRIVATE ?KEY(?: BLOCK)?\s*-{3,}
 * block  = header(?:[\s\S]*?-{3,}\s*END[ A-Z0-9]{0,40}?PRIVATE ?KEY(?: BLOCK)?\s*-{3,}|[\s\S]*+)
 * </pre>
 * A backtracking matcher tries every dash of a long run as a start and runs to its end each
 * time, which is quadratic (10,000 dashes took 1.5 s). Here a header can only start at the
 * first dash of a run (a later dash has the same continuation and fewer dashes), each run is
 * looked at once, and the END line is searched for once, from the end of the header: a block
 * without one runs to the end of the text, so a stream holds the whole block back.
 */
final class PrivateKeyScanner {

    /** Receives one block: {@code [start, end)} in the scanned text. */
    @FunctionalInterface
    interface Sink {
        void accept(int start, int end);
    }

    private static final int CLASS_RUN = 40;
    /**
     * The fewest dashes that open a header or an END line: the probes' gate. Cards, dates and ids
     * are full of single dashes, and on dense personal data the scan searched each of them in both
     * views of nearly every text; a text without three dashes in a row is passed over whole. The
     * scan itself still goes dash by dash: searching for "---" throughout was slower on a long
     * UTF-16 text (x0.88 for this rule alone on the joined mixed corpus).
     */
    static final String DASHES = "---";
    /** The header line alone, to tell whether a header still being written could complete. */
    private static final java.util.regex.Pattern HEADER = java.util.regex.Pattern.compile(
            "-{3,}\\s*BEGIN[ A-Z0-9]{0,40}?PRIVATE ?KEY(?: BLOCK)?\\s*-{3,}", java.util.regex.Pattern.CASE_INSENSITIVE);

    static final PatternDetector.Finder FINDER = new PatternDetector.Finder() {
        @Override
        public void find(String text, int from, Sink sink) {
            PrivateKeyScanner.find(text, from, sink);
        }

        @Override
        public int openFrom(String text, int from) {
            return PrivateKeyScanner.openFrom(text, from);
        }
    };

    private PrivateKeyScanner() {}

    /**
     * Where a block could still start or grow: a block that reaches the end of the text (no END
     * line yet, or its closing dashes may go on), or a header still being written. A header that
     * reaches the end starts at one of the last two dash runs (its own dashes, and perhaps the
     * closing ones), since nothing else in a header is a dash.
     */
    static int openFrom(String t, int from) {
        int n = t.length();
        int[] open = {n};
        find(t, (s, e) -> {
            if (e == n) {
                open[0] = Math.min(open[0], s);
            }
        });
        int end = n;
        for (int run = 0; run < 2; run++) {
            int last = t.lastIndexOf('-', end - 1);
            if (last < from) {
                break;
            }
            int start = last;
            while (start > 0 && t.charAt(start - 1) == '-') {
                start--;
            }
            var m = HEADER.matcher(t).useTransparentBounds(true).region(start, n);
            m.lookingAt();
            if (m.hitEnd()) {
                open[0] = Math.min(open[0], start);
            }
            end = start;
        }
        return Math.max(from, Math.min(open[0], n));
    }

    static void find(String t, Sink sink) {
        find(t, 0, sink);
    }

    static void find(String t, int start, Sink sink) {
        int n = t.length();
        int from = start;
        while (from < n) {
            int dash = t.indexOf('-', from);
            if (dash < 0) {
                return;
            }
            int runEnd = dashRunEnd(t, dash);
            int headerEnd = runEnd - dash >= 3 ? line(t, runEnd, "BEGIN") : -1;
            if (headerEnd < 0) {
                from = runEnd;
                continue;
            }
            int end = n;
            for (int p = t.indexOf('-', headerEnd); p >= 0; ) {
                int pEnd = dashRunEnd(t, p);
                int lineEnd = pEnd - p >= 3 ? line(t, pEnd, "END") : -1;
                if (lineEnd >= 0) {
                    end = lineEnd;
                    break;
                }
                p = t.indexOf('-', pEnd);
            }
            sink.accept(dash, end);
            from = end;
        }
    }

    /**
     * After a run of at least three dashes ending at {@code at}: matches
     * {@code \s*WORD[ A-Z0-9]{0,40}?PRIVATE ?KEY(?: BLOCK)?\s*-{3,}} and returns where it ends
     * (after the whole closing dash run), or -1. The lazy class run takes the first length that
     * lets the rest match, as the regex does.
     */
    private static int line(String t, int at, String word) {
        int i = skipSpace(t, at);
        if (!regionMatches(t, i, word)) {
            return -1;
        }
        int classStart = i + word.length();
        for (int k = 0; k <= CLASS_RUN; k++) {
            int p = classStart + k;
            if (k > 0 && !isClassChar(t, p - 1)) {
                return -1;
            }
            int end = afterPrivateKey(t, p);
            if (end >= 0) {
                return end;
            }
        }
        return -1;
    }

    /** {@code PRIVATE ?KEY(?: BLOCK)?\s*-{3,}} at {@code p}: the end of the dash run, or -1. */
    private static int afterPrivateKey(String t, int p) {
        if (!regionMatches(t, p, "PRIVATE")) {
            return -1;
        }
        int k = p + 7;
        if (k < t.length() && t.charAt(k) == ' ') {
            k++;
        }
        if (!regionMatches(t, k, "KEY")) {
            return -1;
        }
        k += 3;
        if (regionMatches(t, k, " BLOCK")) {
            int end = closingDashes(t, k + 6);
            if (end >= 0) {
                return end;
            }
        }
        return closingDashes(t, k);
    }

    /** {@code \s*-{3,}} at {@code at}, greedy: the end of the dash run, or -1. */
    private static int closingDashes(String t, int at) {
        int d = skipSpace(t, at);
        int end = dashRunEnd(t, d);
        return end - d >= 3 ? end : -1;
    }

    private static int dashRunEnd(String t, int i) {
        while (i < t.length() && t.charAt(i) == '-') {
            i++;
        }
        return i;
    }

    /** {@code \s} in Java's default (ASCII) meaning. */
    private static int skipSpace(String t, int i) {
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c != ' ' && c != '\t' && c != '\n' && c != 0x0B && c != '\f' && c != '\r') {
                break;
            }
            i++;
        }
        return i;
    }

    /** {@code [ A-Z0-9]} with ASCII case folding. */
    private static boolean isClassChar(String t, int i) {
        if (i >= t.length()) {
            return false;
        }
        char c = t.charAt(i);
        return c == ' ' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    /** {@code upper} (ASCII capitals and spaces) at {@code i}, ASCII letters compared without case. */
    private static boolean regionMatches(String t, int i, String upper) {
        if (i < 0 || i + upper.length() > t.length()) {
            return false;
        }
        for (int k = 0; k < upper.length(); k++) {
            char c = t.charAt(i + k);
            char u = upper.charAt(k);
            if (c != u && !(u >= 'A' && u <= 'Z' && c == u + ('a' - 'A'))) {
                return false;
            }
        }
        return true;
    }
}
