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
     * The runs of the first {@code n} chars of {@code t} (a view's array: no bounds check per char
     * of a string), without a branch per char: each char's position is written as the next bound
     * and kept (the count moves on) only where it begins or ends a run. Mixed text has a run every
     * twenty chars or so (log time stamps, versions, figures), and a loop that skipped to each run's
     * start and then to its end mispredicted both turns of every run.
     */
    static DigitRuns of(char[] t, int n) {
        int[] bounds = new int[Math.min(n, BLOCK) + 1];
        int k = 0; // bounds written
        int inRun = 0; // 1 while the last char read was a digit
        for (int from = 0; from < n; from += BLOCK) {
            int to = Math.min(n, from + BLOCK);
            if (k + (to - from) + 1 > bounds.length) { // each char can write one bound, and the end one more
                bounds = Arrays.copyOf(bounds, Math.max(bounds.length * 2, k + (to - from) + 1));
            }
            for (int i = from; i < to; i++) {
                int digit = (char) (t[i] - '0') < 10 ? 1 : 0;
                bounds[k] = i;
                k += digit ^ inRun;
                inRun = digit;
            }
        }
        if (inRun == 1) {
            bounds[k++] = n; // a run to the end (the block's capacity left a slot for it)
        }
        return new DigitRuns(bounds, k / 2);
    }

    /** How many chars {@link #of(char[], int)} reads before it makes sure the bounds array has room for them. */
    private static final int BLOCK = 512;

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
