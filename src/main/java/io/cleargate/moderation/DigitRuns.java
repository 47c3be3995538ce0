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
