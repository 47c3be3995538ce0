package io.cleargate.refusal.detector;

/**
 * The shape of a normalised answer, computed in one pass: which sentence each character belongs
 * to and whether it sits inside quotation marks (straight, curly, German low-high, guillemets,
 * CJK corner brackets). Quotes do not carry over a line break, so one stray mark cannot hide the
 * rest of an answer.
 */
final class Layout {

    private static final int MAX_QUOTE_DEPTH = 8;

    final int length;
    final int[] sentence;      // sentence index per character
    final int[] sentenceStart; // start offset per sentence index
    final int[] sentenceEnd;   // end offset (exclusive) per sentence index
    final boolean[] quoted;
    final int sentences;

    private Layout(int length, int[] sentence, int[] starts, int[] ends, boolean[] quoted, int sentences) {
        this.length = length;
        this.sentence = sentence;
        this.sentenceStart = starts;
        this.sentenceEnd = ends;
        this.quoted = quoted;
        this.sentences = sentences;
    }

    static Layout of(char[] s, int n) {
        int[] sentence = new int[n];
        // grown as sentences are found: sized for every char, they were most of what judging an answer allocated
        int[] starts = new int[16];
        int[] ends = new int[16];
        boolean[] quoted = new boolean[n];
        char[] closers = new char[MAX_QUOTE_DEPTH];
        int depth = 0;
        int current = 0;
        starts[0] = 0;
        for (int i = 0; i < n; i++) {
            char c = s[i];
            if (c == '\n') {
                depth = 0;
            } else if (depth > 0 && c == closers[depth - 1]) {
                depth--;
                quoted[i] = true;
                sentence[i] = current;
                continue;
            } else {
                char closer = closerOf(c);
                if (closer != 0 && depth < MAX_QUOTE_DEPTH) {
                    closers[depth++] = closer;
                }
            }
            quoted[i] = depth > 0;
            sentence[i] = current;
            if (depth == 0 && endsSentence(s, i, n)) {
                ends[current] = i + 1;
                current++;
                if (current + 1 > starts.length) {
                    starts = java.util.Arrays.copyOf(starts, starts.length * 2);
                    ends = java.util.Arrays.copyOf(ends, ends.length * 2);
                }
                starts[current] = i + 1;
            }
        }
        ends[current] = n;
        return new Layout(n, sentence, starts, ends, quoted, current + 1);
    }

    private static char closerOf(char c) {
        return switch (c) {
            case '"' -> '"';
            case '\u201c' -> '\u201d'; // “ ”
            case '\u201e' -> '\u201c'; // „ “
            case '\u00ab' -> '\u00bb'; // « »
            case '\u2039' -> '\u203a'; // ‹ ›
            case '\u300c' -> '\u300d'; // 「 」
            case '\u300e' -> '\u300f'; // 『 』
            default -> 0;
        };
    }

    private static boolean endsSentence(char[] s, int i, int n) {
        char c = s[i];
        return switch (c) {
            case '\n', '。', '！', '？', '!', '?', '…' -> true;
            // "2.3", "e.g." and "i.e." do not end a sentence: a full stop must be followed by a space or the end.
            case '.' -> i + 1 == n || s[i + 1] == ' ' || s[i + 1] == '\n';
            default -> false;
        };
    }

    /** Counts letters and digits in [from, to). */
    static int letters(char[] s, int from, int to) {
        int count = 0;
        for (int i = from; i < to; i++) {
            if (Character.isLetterOrDigit(s[i])) {
                count++;
            }
        }
        return count;
    }
}
