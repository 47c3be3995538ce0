package io.cleargate.moderation;

import java.util.Arrays;

/**
 * The runs of ASCII digits of one view, found in one pass and shared by every detector whose
 * matches hold a digit (card, IBAN, phone, SSN, IPv4): each used to search the view for digits
 * on its own, and in prose and code, where digits are few, those searches were most of their cost.
 */
final class DigitRuns {

    /** Run k is [bounds[2k], bounds[2k + 1]). */
    private final int[] bounds;
    private final int runs;

    private DigitRuns(int[] bounds, int runs) {
        this.bounds = bounds;
        this.runs = runs;
    }

    static DigitRuns of(String t) {
        return of(t.toCharArray(), t.length());
    }

    /**
     * The runs of the first {@code n} chars of {@code t} (a view's array: no bounds check per char of
     * a string). The bounds array starts at a size for one run per 16 chars (logs and retrieved
     * documents have one per 20 or so), so a long text's array is not grown and copied a dozen times.
     */
    static DigitRuns of(char[] t, int n) {
        int[] bounds = new int[Math.max(16, n >>> 3 & ~1)];
        int runs = 0;
        int i = 0;
        while (true) {
            while (i < n && (char) (t[i] - '0') >= 10) {
                i++;
            }
            if (i == n) {
                return new DigitRuns(bounds, runs);
            }
            int start = i;
            while (i < n && (char) (t[i] - '0') < 10) {
                i++;
            }
            if (2 * runs + 2 > bounds.length) {
                bounds = Arrays.copyOf(bounds, bounds.length * 2);
            }
            bounds[2 * runs] = start;
            bounds[2 * runs + 1] = i;
            runs++;
        }
    }

    /**
     * The runs of a clean view's first {@code n} chars and of the compact view built from them,
     * in one pass: [0] clean, [1] compact. The compact view drops whitespace and decoration
     * ({@code keptInCompact}) and copies every other char, digits included, so its runs are the
     * clean runs at the kept count before each, a run joined to the one before it when nothing
     * kept stands between them ("4644 0516" is one run there). Counting the kept chars of the
     * gaps costs a table read per char; a second pass over the compact view cost a loop of its
     * own, and on short texts (dense personal data, a hundred chars) both passes were asked of
     * nearly every text (phone, card, IBAN). {@code ViewsTest} compares both with {@link #of}.
     */
    static DigitRuns[] ofCleanAndCompact(char[] t, int n, java.util.function.IntPredicate keptInCompact) {
        int[] clean = new int[Math.max(16, n >>> 3 & ~1)];
        int[] compact = new int[clean.length];
        int runs = 0;
        int compactRuns = 0;
        int kept = 0; // compact chars before i
        int i = 0;
        while (true) {
            while (i < n && (char) (t[i] - '0') >= 10) {
                char c = t[i++];
                kept += c < 128 ? ASCII_KEPT[c] : keptInCompact.test(c) ? 1 : 0;
            }
            if (i == n) {
                return new DigitRuns[] {new DigitRuns(clean, runs), new DigitRuns(compact, compactRuns)};
            }
            int start = i;
            while (i < n && (char) (t[i] - '0') < 10) {
                i++;
            }
            if (2 * runs + 2 > clean.length) {
                clean = Arrays.copyOf(clean, clean.length * 2);
                compact = Arrays.copyOf(compact, clean.length);
            }
            clean[2 * runs] = start;
            clean[2 * runs + 1] = i;
            runs++;
            int from = kept;
            kept += i - start;
            if (compactRuns > 0 && compact[2 * compactRuns - 1] == from) {
                compact[2 * compactRuns - 1] = kept; // only dropped chars since the last run: one run there
            } else {
                compact[2 * compactRuns] = from;
                compact[2 * compactRuns + 1] = kept;
                compactRuns++;
            }
        }
    }

    /** Per ASCII char, 1 when the compact view keeps it (set by {@link NormalizedText}'s table). */
    static final byte[] ASCII_KEPT = NormalizedText.compactKeptAscii();

    boolean isEmpty() {
        return runs == 0;
    }

    /** How many runs there are. */
    int count() {
        return runs;
    }

    /** Where run {@code k} begins (its first digit). */
    int start(int k) {
        return bounds[2 * k];
    }

    /** Where run {@code k} ends (after its last digit). */
    int end(int k) {
        return bounds[2 * k + 1];
    }

    /** Walks the runs (each caller its own; fastest with non-decreasing positions). */
    Cursor cursor() {
        return new Cursor();
    }

    final class Cursor implements Starts.Cursor {
        private int k;

        /** The first digit at or after {@code from}, or -1. */
        @Override
        public int next(int from) {
            while (k > 0 && bounds[2 * k - 1] > from) {
                k--; // asked for an earlier position
            }
            while (k < runs && bounds[2 * k + 1] <= from) {
                k++;
            }
            return k < runs ? Math.max(from, bounds[2 * k]) : -1;
        }

        /**
         * The first digit of the first run that begins at or after {@code from}, or -1: for the
         * searches whose matches begin where a digit has no digit before it, so that only each
         * run's first digit is visited, not every digit of it.
         */
        int nextRun(int from) {
            while (k > 0 && bounds[2 * k - 2] >= from) {
                k--; // asked for an earlier position
            }
            while (k < runs && bounds[2 * k] < from) {
                k++;
            }
            return k < runs ? bounds[2 * k] : -1;
        }
    }

    /** Where a match of a pattern every match of which begins with a digit may start: at each digit. */
    Starts asStarts() {
        return text -> cursor();
    }
}
