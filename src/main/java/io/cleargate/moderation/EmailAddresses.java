package io.cleargate.moderation;

/**
 * The e-mail pattern's matches ({@link BuiltinDetectors#email}) found without the regex engine: at
 * each start its start source names (the one run of local-part chars before each "@"), where the
 * pattern's {@code lookingAt} ends, read char by char. On dense personal data every address was
 * an attempt of the regex in the clean view and again in the compact view, and its backtracking
 * through the domain's labels was most of what the e-mail rule cost. Hold-back still asks the
 * regex where an attempt could still grow. {@code EmailAddressesTest} compares {@link #end} with
 * the regex at every position of random texts, and the finder with {@code Matcher.find}.
 *
 * <p>Why each part of the pattern has one way to match, so that the first way the regex finds is
 * the one read here:
 * <ul>
 *   <li>the local part ({@code [A-Za-z0-9][A-Za-z0-9._%+-]{0,63}}, no such char before it) must be
 *       followed by " ?@", neither of which is a local-part char, so it is the whole run of them,
 *       at most 64 chars;</li>
 *   <li>a label ({@code [A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?}) must be followed by " ?\.",
 *       neither of which is a label char, so it is the whole run of label chars, 1 to 63 of them,
 *       beginning and ending with a letter or digit; the optional spaces are greedy, and giving one
 *       back leaves a space where a label, a dot or the top-level domain must begin;</li>
 *   <li>the labels ({@code {1,8}}, greedy) are taken as far as they go, and the top-level domain
 *       ({@code [A-Za-z]{2,24}} not followed by {@code [A-Za-z0-9-]}) is tried after the last one
 *       first, then after each earlier one, deepest first: the letters must be the whole run of
 *       letters from there, since a shorter run is followed by a letter. After an earlier label the
 *       next label stands there followed by " ." or ".", so it is a top-level domain exactly when
 *       it is 2 to 24 letters.</li>
 * </ul>
 */
record EmailAddresses(OpenMatch open, Starts starts) implements PatternDetector.Finder {

    /** The most chars of a local part, of a label, and the most labels before the top-level domain. */
    private static final int LOCAL_MAX = 64;
    private static final int LABEL_MAX = 63;
    private static final int LABELS_MAX = 8;
    private static final int TLD_MIN = 2;
    private static final int TLD_MAX = 24;

    /** Bits per ASCII char: a letter, a digit, "-", a local-part char. */
    private static final byte LETTER = 1;
    private static final byte DIGIT = 2;
    private static final byte HYPHEN = 4;
    private static final byte LOCAL = 8;
    private static final byte[] CLASS = new byte[128];

    static {
        for (char c = 0; c < 128; c++) {
            boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
            boolean digit = c >= '0' && c <= '9';
            CLASS[c] = (byte) ((letter ? LETTER : 0) | (digit ? DIGIT : 0) | (c == '-' ? HYPHEN : 0)
                    | (BuiltinDetectors.EMAIL_LOCAL.indexOf(c) >= 0 ? LOCAL : 0));
        }
    }

    private static boolean is(char c, int bits) {
        return c < 128 && (CLASS[c] & bits) != 0;
    }

    /** As {@code Matcher.find(from)} and then {@code find()} report the pattern's matches: each search resumes at the last end. */
    @Override
    public void find(String text, int from, PrivateKeyScanner.Sink sink) {
        Starts.eachMatch(text, from, starts.open(text), EmailAddresses::end, sink);
    }

    @Override
    public int openFrom(String text, int from) {
        return open.from(text, from);
    }

    /**
     * Where the pattern's {@code lookingAt} from {@code s} ends (the text before {@code s} seen by
     * its look-behind, the text after the match by its look-ahead), or -1 when it does not match there.
     */
    static int end(String t, int s) {
        int n = t.length();
        if (s >= n || !is(t.charAt(s), LETTER | DIGIT) || s > 0 && is(t.charAt(s - 1), LOCAL)) {
            return -1;
        }
        int r = s + 1;
        while (r < n && r - s < LOCAL_MAX && is(t.charAt(r), LOCAL)) {
            r++;
        }
        int at = r < n && t.charAt(r) == ' ' ? r + 1 : r; // a local part cut at 64 chars leaves a local char here
        if (at >= n || t.charAt(at) != '@') {
            return -1;
        }
        int p = at + 1 < n && t.charAt(at + 1) == ' ' ? at + 2 : at + 1;
        int labels = 0;
        int earlier = -1; // the end of the deepest earlier label that is a top-level domain
        while (labels < LABELS_MAX) {
            int q = labelEnd(t, p);
            if (q < 0) {
                break;
            }
            int dot = q < n && t.charAt(q) == ' ' ? q + 1 : q;
            if (dot >= n || t.charAt(dot) != '.') {
                break;
            }
            if (labels > 0 && q - p >= TLD_MIN && q - p <= TLD_MAX && lettersOnly(t, p, q)) {
                earlier = q;
            }
            p = dot + 1 < n && t.charAt(dot + 1) == ' ' ? dot + 2 : dot + 1;
            labels++;
        }
        if (labels == 0) {
            return -1;
        }
        int last = topLevelEnd(t, p);
        return last >= 0 ? last : earlier;
    }

    /** The end of the label at {@code p}: the whole run of label chars, 1 to 63, letter or digit at both ends; -1 if none. */
    private static int labelEnd(String t, int p) {
        int n = t.length();
        if (p >= n || !is(t.charAt(p), LETTER | DIGIT)) {
            return -1;
        }
        int q = p + 1;
        while (q < n && q - p <= LABEL_MAX && is(t.charAt(q), LETTER | DIGIT | HYPHEN)) {
            q++;
        }
        return q - p > LABEL_MAX || t.charAt(q - 1) == '-' ? -1 : q;
    }

    /** The end of the top-level domain at {@code p}: the whole run of letters, 2 to 24, with no label char after it; -1 if none. */
    private static int topLevelEnd(String t, int p) {
        int n = t.length();
        int q = p;
        while (q < n && q - p <= TLD_MAX && is(t.charAt(q), LETTER)) {
            q++;
        }
        if (q - p < TLD_MIN || q - p > TLD_MAX || q < n && is(t.charAt(q), LETTER | DIGIT | HYPHEN)) {
            return -1;
        }
        return q;
    }

    private static boolean lettersOnly(String t, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!is(t.charAt(i), LETTER)) {
                return false;
            }
        }
        return true;
    }
}
