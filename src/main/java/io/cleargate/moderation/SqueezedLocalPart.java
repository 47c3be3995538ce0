package io.cleargate.moderation;

/**
 * Where an e-mail address found in the compact view (whitespace squeezed out, to read
 * "jane@exa mple . com") begins in the text. Squeezing glues the words before the address onto its
 * local part, so the compact match starts wherever the run of local-part chars began: for prose,
 * the start of the sentence. Its span, and so its redaction, keeps only the words that can belong
 * to the address: walking left from the "@", the word before it, then each word that is a single
 * char ("j a n e") or that a single separator follows ("jane . doe"); a word of two or more chars
 * followed by a word ends the walk, so "Write to" stays out of "Write to jane@exa mple.com".
 *
 * <p>Whether an address is found at all does not change (the pattern still reads the whole run);
 * only where its span starts. That is what lets a stream release prose: text before the last word
 * can no longer become part of a span ({@link #held}).
 */
final class SqueezedLocalPart implements PatternDetector.Narrowing {

    /** An address's local part is at most 64 chars, so an attempt still open began at most that far back. */
    static final int LOCAL_PART = 64;

    @Override
    public int lookBack() {
        return LOCAL_PART;
    }

    @Override
    public int start(NormalizedText text, View view, int start, int end) {
        int at = view.text.indexOf('@', start);
        if (at <= start || at >= end) {
            return start; // not the shape of an address match; keep the span as it is
        }
        return walk(text, view, start, tokenStart(text, view, at - 1, start), at);
    }

    /**
     * The earliest view index a span could start at for an attempt that began at {@code open} and
     * reads to the end of the text: from its "@" when it has one already, else from the last word,
     * taken as the word before an "@" still to come (every word the walk could still take in
     * later is taken in now; a word that grows only leaves the walk sooner).
     */
    @Override
    public int held(NormalizedText text, View view, int open) {
        int n = view.length();
        int at = view.text.indexOf('@', open);
        if (at > open) {
            return start(text, view, open, n);
        }
        return walk(text, view, open, tokenStart(text, view, n - 1, open), n);
    }

    /** From the word [b, end), takes in the words before it while they can belong to the local part. */
    private static int walk(NormalizedText text, View view, int floor, int b, int end) {
        while (b > floor) {
            int p = tokenStart(text, view, b - 1, floor);
            boolean separatorFollows = end - b == 1 && !Character.isLetterOrDigit(view.text.charAt(b));
            if (b - p != 1 && !separatorFollows) {
                break;
            }
            end = b;
            b = p;
        }
        return Math.max(b, floor);
    }

    /** The first view index, not before {@code floor}, of the word that holds view index {@code i}. */
    private static int tokenStart(NormalizedText text, View view, int i, int floor) {
        while (i > floor && !spaceBefore(text, view, i)) {
            i--;
        }
        return i;
    }

    /** Whether whitespace stood between view chars {@code i - 1} and {@code i} (read in the clean view, where NBSP is a space). */
    private static boolean spaceBefore(NormalizedText text, View view, int i) {
        int from = view.originalEnd(i - 1);
        int to = view.originalStart(i);
        View clean = text.clean;
        for (int j = clean.countBefore(from); j < clean.length() && clean.originalStart(j) < to; j++) {
            if (Character.isWhitespace(clean.text.charAt(j))) {
                return true;
            }
        }
        return false;
    }
}
