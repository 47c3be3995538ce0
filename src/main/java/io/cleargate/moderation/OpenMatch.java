package io.cleargate.moderation;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds where a regular expression could still match once more text is appended: the first
 * start whose match attempt reads up to the end of the text (java.util.regex reports this as
 * {@link Matcher#hitEnd()}). An attempt that fails or succeeds before the end is final, because
 * appending text never changes what an attempt read. Output moderation holds back from there.
 */
final class OpenMatch {

    private final Pattern pattern;
    /** ASCII chars an attempt can begin with at the start of the text. */
    private final boolean[] startable = new boolean[128];
    /**
     * The same after each ASCII char (index previous * 128 + char), so that a leading lookbehind
     * ("not inside a word") skips most positions cheaply. Anything non-ASCII is always tried.
     * Tables built from too little history are only safe for negative lookbehinds (which can only
     * pass more often with less text before them), so a pattern with a positive lookbehind (or a
     * non-boundary or previous-match anchor, which more history can make pass) tries every position.
     */
    private final boolean[] startableAfter = new boolean[128 * 128];
    /**
     * Whether an attempt can get past an ASCII char followed by another (index char * 128 +
     * next), read without history: most detectors' first two chars are far rarer than their
     * first one ("sh" of "show", "ig" of "ignore"), so this rules out most word starts too.
     */
    private final boolean[] startableBefore = new boolean[128 * 128];

    /**
     * A matcher each thread may borrow and give back (see {@link #borrow}): a stream's request
     * thread asks every probe where it is still open, and searches it, after every chunk, and a new
     * Matcher each time (with its group and state arrays) was half of what moderating a stream
     * allocated. A borrowed matcher is reset to the empty text when given back, so no client text
     * outlives the call on a pooled thread.
     */
    private final ThreadLocal<Matcher[]> spare;

    OpenMatch(Pattern pattern) {
        this.pattern = pattern;
        this.spare = ThreadLocal.withInitial(() -> new Matcher[1]);
        if (pattern.pattern().contains("(?<=") || pattern.pattern().contains("\\B") || pattern.pattern().contains("\\G")) {
            java.util.Arrays.fill(startable, true);
            java.util.Arrays.fill(startableAfter, true);
            java.util.Arrays.fill(startableBefore, true);
            return;
        }
        for (char c = 0; c < 128; c++) {
            Matcher m = pattern.matcher(String.valueOf(c));
            startable[c] = m.lookingAt() || m.hitEnd();
        }
        char[] pair = new char[2];
        for (char c = 0; c < 128; c++) {
            if (!startable[c]) {
                continue;
            }
            pair[0] = c;
            for (char next = 0; next < 128; next++) {
                pair[1] = next;
                Matcher m = pattern.matcher(new String(pair));
                startableBefore[c * 128 + next] = m.lookingAt() || m.hitEnd();
            }
        }
        for (char p = 0; p < 128; p++) {
            pair[0] = p;
            for (char c = 0; c < 128; c++) {
                if (!startable[c]) {
                    continue; // a negative lookbehind only ever narrows what can start here
                }
                pair[1] = c;
                Matcher m = pattern.matcher(new String(pair)).useTransparentBounds(true).useAnchoringBounds(false);
                m.region(1, 2);
                startableAfter[p * 128 + c] = m.lookingAt() || m.hitEnd();
            }
        }
    }

    /**
     * True unless an attempt at {@code s} certainly fails: the tables say whether an attempt can
     * get past the char at {@code s} (after the one before it), so a position they rule out is one
     * where {@link Matcher#find()} would try and fail too.
     */
    boolean mayStartAt(String text, int s) {
        char c = text.charAt(s);
        if (c >= 128) {
            return true;
        }
        if (s + 1 < text.length()) {
            // Failing on these two chars without history fails with any history: the lookbehinds
            // that can come first are negative ones, which more text before can only make fail.
            char next = text.charAt(s + 1);
            if (next < 128 && !startableBefore[c * 128 + next]) {
                return false;
            }
        }
        if (s == 0) {
            return startable[c];
        }
        char p = text.charAt(s - 1);
        return p >= 128 || startableAfter[p * 128 + c];
    }

    /**
     * Every match of the pattern, as {@link Matcher#find()} reports them (leftmost first, each
     * search resuming at the previous end, after an empty match one further), but with the
     * regex engine entered only where {@link #mayStartAt} allows: the per-position cost of
     * find() on positions that cannot start a match (the middle of words, for most detectors)
     * was most of a scan.
     */
    void find(String text, PrivateKeyScanner.Sink sink) {
        find(text, sink, Starts.ANYWHERE);
    }

    /**
     * The same for a pattern every match of which holds {@code anchor} at most {@code within}
     * chars after its start: starts further than that before the next anchor are skipped
     * without a look, and the scan ends after the last anchor.
     */
    void find(String text, PrivateKeyScanner.Sink sink, char anchor, int within) {
        find(text, sink, Starts.anchored(String.valueOf(anchor), within));
    }

    /**
     * The same, trying only the positions {@code starts} names (which must include the start of
     * every match the pattern has in the text): a position left out is one where find() would
     * try and fail.
     */
    void find(String text, PrivateKeyScanner.Sink sink, Starts starts) {
        find(text, 0, sink, starts);
    }

    /**
     * The same from {@code from} on, as {@code Matcher.find(from)} and then find() would go (look-behinds see the text before).
     * The matcher is borrowed only once there is a position to try: a short text (one request's
     * prompt) gives most probes none, and borrowing and resetting a matcher for each of them was
     * a sizeable share of what such a text cost.
     */
    void find(String text, int from, PrivateKeyScanner.Sink sink, Starts starts) {
        Starts.Cursor cursor = starts.open(text);
        int s = nextTry(text, from, cursor);
        if (s < 0 && (starts != Starts.ANYWHERE || from > text.length())) {
            return; // nothing to try (ANYWHERE also tries the end of the text when the search reaches it, below)
        }
        Matcher m = borrow(text);
        try {
            find(text, s, sink, starts, cursor, m);
        } finally {
            giveBack(m);
        }
    }

    /**
     * Tries each position from {@code s} on ({@link #nextTry}'s answer, -1 for none) as {@code
     * Matcher.find()} would, reporting each match and resuming at its end.
     */
    private void find(String text, int s, PrivateKeyScanner.Sink sink, Starts starts, Starts.Cursor cursor, Matcher m) {
        int n = text.length();
        while (s >= 0) {
            m.region(s, n);
            if (m.lookingAt()) {
                int e = m.end();
                sink.accept(s, e);
                s = e > s ? e : s + 1;
            } else {
                s++;
            }
            s = nextTry(text, s, cursor);
        }
        if (starts == Starts.ANYWHERE) {
            m.region(n, n); // find() also tries the end of the text, where only an empty match fits
            if (m.lookingAt()) {
                sink.accept(n, n);
            }
        }
    }

    /** The first position at or after {@code s} that {@code cursor} names and {@link #mayStartAt} lets through, or -1. */
    private int nextTry(String text, int s, Starts.Cursor cursor) {
        int n = text.length();
        while (s < n) {
            s = cursor.next(s);
            if (s < 0 || s >= n) {
                return -1;
            }
            if (mayStartAt(text, s)) {
                return s;
            }
            s++;
        }
        return -1;
    }

    /**
     * The next match starting at or after {@code from}, as {@code Matcher.find(from)} finds it
     * (the text before {@code from} is seen by look-behinds), trying only positions {@code
     * cursor} names; the span is left in {@code span}. False when there is none.
     */
    boolean next(String text, int from, Starts.Cursor cursor, Matcher m, int[] span) {
        int n = text.length();
        int s = from;
        while (s < n) {
            s = cursor.next(s);
            if (s < 0 || s >= n) {
                return false;
            }
            if (mayStartAt(text, s)) {
                m.region(s, n);
                if (m.lookingAt()) {
                    span[0] = s;
                    span[1] = m.end();
                    return true;
                }
            }
            s++;
        }
        return false;
    }

    /** The pattern whose attempts this makes (a finder that reads matches by hand is compared with it). */
    Pattern pattern() {
        return pattern;
    }

    /** A matcher for {@link #next}: transparent bounds, so look-behinds see the text before a region. */
    Matcher matcher(String text) {
        return pattern.matcher(text).useTransparentBounds(true).useAnchoringBounds(false);
    }

    /**
     * The first start at or after {@code from} (a view index) whose attempt reaches the end of
     * {@code text}, or {@code text.length()} when none does. Lookbehind sees the text before
     * {@code from}; every attempt is bounded by the pattern, so this is linear in the tail for
     * the bounded patterns and reads each long run once for the run-shaped ones.
     */
    int from(String text, int from) {
        int n = text.length();
        Matcher m = borrow(text);
        try {
            for (int s = Math.max(0, from); s < n; s++) {
                if (!mayStartAt(text, s)) {
                    continue;
                }
                m.region(s, n);
                m.lookingAt();
                if (m.hitEnd()) {
                    return s;
                }
            }
            return n;
        } finally {
            giveBack(m);
        }
    }

    /** This thread's spare matcher on {@code text}, or a new one while the spare is in use (a sink that searches again). */
    private Matcher borrow(String text) {
        Matcher[] slot = spare.get();
        Matcher m = slot[0];
        if (m == null) {
            return matcher(text);
        }
        slot[0] = null;
        return m.reset(text); // keeps transparent and non-anchoring bounds
    }

    private void giveBack(Matcher m) {
        spare.get()[0] = m.reset("");
    }

    /** The original offset a view index stands for (the end of the text when past the view's end). */
    static int original(View view, NormalizedText text, int viewIndex) {
        return viewIndex >= view.length() ? text.original.length() : view.originalStart(viewIndex);
    }
}
