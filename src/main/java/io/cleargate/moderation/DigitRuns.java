package io.cleargate.moderation;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

    /** The runs of the first {@code n} chars of {@code t} (a view's array: no bounds check per char of a string). */
    static DigitRuns of(char[] t, int n) {
        MemorySegment lanes = MemorySegment.ofArray(t);
        int[] bounds = new int[16];
        int runs = 0;
        int i = 0;
        while (true) {
            i = nextDigit(lanes, t, i, n);
            if (i == n) {
                return new DigitRuns(bounds, runs);
            }
            int start = i;
            i = nextNonDigit(lanes, t, i + 1, n);
            if (2 * runs + 2 > bounds.length) {
                bounds = Arrays.copyOf(bounds, bounds.length * 2);
            }
            bounds[2 * runs] = start;
            bounds[2 * runs + 1] = i;
            runs++;
        }
    }

    // Digits are looked for four chars at a time: a long read over four chars, and a bit trick that
    // sets a lane's top bit when its char is '0' to '9' (each lane's sums stay within the lane).
    // Prose and code have few digits, and a char-by-char loop over them was a tenth of a scan.
    private static final ValueLayout.OfLong FOUR_CHARS = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long LOW_15 = 0x7FFF_7FFF_7FFF_7FFFL;
    private static final long TOP = 0x8000_8000_8000_8000L;
    /** Per lane: 0x7FFF + '9' + 1, from which a char of at most '9' leaves the top bit set. */
    private static final long BELOW_COLON = 0x8039_8039_8039_8039L;
    /** Per lane: 0x8000 - '0', to which a char of at least '0' carries into the top bit. */
    private static final long FROM_ZERO = 0x7FD0_7FD0_7FD0_7FD0L;

    /** The top bit of each lane of {@code x} (four chars, the first lowest) that holds an ASCII digit. */
    static long digitLanes(long x) {
        long low = x & LOW_15; // a char of 0x8000 or more is no digit: ~x clears its lane below
        return (BELOW_COLON - low) & ~x & (low + FROM_ZERO) & TOP;
    }

    /** The first index in [i, n) holding an ASCII digit, or n. */
    private static int nextDigit(MemorySegment lanes, char[] t, int i, int n) {
        for (; i + 4 <= n; i += 4) {
            long digits = digitLanes(lanes.get(FOUR_CHARS, 2L * i));
            if (digits != 0) {
                return i + (Long.numberOfTrailingZeros(digits) >>> 4);
            }
        }
        while (i < n && (char) (t[i] - '0') >= 10) {
            i++;
        }
        return i;
    }

    /** The first index in [i, n) holding no ASCII digit, or n. */
    private static int nextNonDigit(MemorySegment lanes, char[] t, int i, int n) {
        for (; i + 4 <= n; i += 4) {
            long others = ~digitLanes(lanes.get(FOUR_CHARS, 2L * i)) & TOP;
            if (others != 0) {
                return i + (Long.numberOfTrailingZeros(others) >>> 4);
            }
        }
        while (i < n && (char) (t[i] - '0') < 10) {
            i++;
        }
        return i;
    }

    /** The runs as a char-by-char loop finds them, [start, end) pairs in order: for tests. */
    static List<int[]> byChar(String t) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < t.length(); ) {
            if ((char) (t.charAt(i) - '0') >= 10) {
                i++;
                continue;
            }
            int s = i;
            while (i < t.length() && (char) (t.charAt(i) - '0') < 10) {
                i++;
            }
            out.add(new int[] {s, i});
        }
        return out;
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
