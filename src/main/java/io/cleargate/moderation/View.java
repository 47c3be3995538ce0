package io.cleargate.moderation;

/**
 * One normalised rendering of a text, with every char mapped back to the original code point it
 * came from. A char produced by expanding one code point (NFKC "ﬁ" → "fi") maps to that whole
 * code point, so a match always maps to a span of whole original code points.
 */
final class View {

    final String name;
    final String text;
    private final int[] origStart;
    private final int[] origEnd;

    View(String name, String text, int[] origStart, int[] origEnd) {
        this.name = name;
        this.text = text;
        this.origStart = origStart;
        this.origEnd = origEnd;
    }

    int length() {
        return text.length();
    }

    /** Original offset where view char {@code i} starts. */
    int originalStart(int i) {
        return origStart[i];
    }

    /** Original offset (exclusive) where view char {@code i} ends. */
    int originalEnd(int i) {
        return origEnd[i];
    }

    /** Number of view chars whose original start lies before {@code originalOffset}. */
    int countBefore(int originalOffset) {
        int lo = 0;
        int hi = text.length();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (origStart[mid] < originalOffset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Growable builder: appends view chars together with their original span. */
    static final class Builder {
        private final String name;
        private final StringBuilder text;
        private int[] start;
        private int[] end;

        Builder(String name, int capacity) {
            this.name = name;
            this.text = new StringBuilder(capacity);
            this.start = new int[Math.max(16, capacity)];
            this.end = new int[Math.max(16, capacity)];
        }

        void append(char c, int from, int to) {
            int n = text.length();
            if (n == start.length) {
                start = java.util.Arrays.copyOf(start, n * 2);
                end = java.util.Arrays.copyOf(end, n * 2);
            }
            text.append(c);
            start[n] = from;
            end[n] = to;
        }

        int length() {
            return text.length();
        }

        char last() {
            return text.charAt(text.length() - 1);
        }

        /** Widens the original span of the last char (used when collapsing whitespace runs). */
        void extendLast(int to) {
            end[text.length() - 1] = to;
        }

        View build() {
            int n = text.length();
            return new View(name, text.toString(), java.util.Arrays.copyOf(start, n), java.util.Arrays.copyOf(end, n));
        }
    }
}
