package io.cleargate.moderation;

/**
 * One normalised rendering of a text, with every char mapped back to the original code point it
 * came from. A char produced by expanding one code point (NFKC "ﬁ" → "fi") maps to that whole
 * code point, so a match always maps to a span of whole original code points.
 *
 * <p>The mapping is stored as cheaply as the view allows, because building views is a large
 * part of moderating a text: the clean view of an ASCII text is the text itself (char i is
 * original char i); any other clean view keeps pieces (ASCII runs copied as they were, and the
 * chars each other code point folded into), and a char ends where its code point does; the views derived from clean (lower, compact, alnum) map a char
 * back through marks their builder left every 64 clean chars, and build a table of the clean
 * index of each char only once many chars are asked for.
 */
final class View {

    final String name;
    final String text;
    /** Where the chars came from, or null when char i is original char i. */
    private final Origins origins;
    /** For a view with its own spans: the original text, whose code point at a char's start is where the char ends. */
    private final String original;
    /** For a derived view: the view it was derived from and the index of each char in it. */
    private final View parent;
    private int[] parentIndex;
    private final java.util.function.Supplier<int[]> index;
    /** The parent index of one char, found from marks without the whole table (null: always use the table). */
    private final java.util.function.IntUnaryOperator locate;
    /** How many chars were mapped back through {@link #locate} so far. */
    private int located;
    /**
     * Chars mapped back one by one before the whole table is built: one per {@link
     * #CHARS_PER_LOCATE} chars of the view, about what building its table costs, and none on a view
     * shorter than {@link #LOCATE_FROM_LENGTH}. A long whole text has a few matches to map; a
     * stream's hold-back asks for many positions of a short text on every chunk (mapping them one
     * by one made a 64-chunk answer's output moderation a fifth slower).
     */
    static final int CHARS_PER_LOCATE = 64;
    static final int LOCATE_FROM_LENGTH = 4096;
    /** The builder's array of the view's chars, for passes that read every char (null when not kept). */
    private char[] chars;
    /** Whether a ' ' stands for a whole run of whitespace in the parent (the lower view). */
    private final boolean collapsesWhitespace;

    private View(String name, String text, Origins origins, String original, View parent,
            java.util.function.Supplier<int[]> index, java.util.function.IntUnaryOperator locate,
            boolean collapsesWhitespace) {
        this.name = name;
        this.text = text;
        this.origins = origins;
        this.original = original;
        this.parent = parent;
        this.index = index;
        this.locate = locate;
        this.collapsesWhitespace = collapsesWhitespace;
    }

    /** A view that is the original text itself. */
    static View identity(String name, String text) {
        return new View(name, text, null, null, null, null, null, false);
    }

    /** A view with its own original spans. */
    static View mapped(String name, String text, Origins origins, String original) {
        return new View(name, text, origins, original, null, null, null, false);
    }

    /**
     * A view whose char i is char {@code index.get()[i]} of {@code parent}; the index is asked for
     * on first use (a view most often has no match to map back).
     */
    static View derived(String name, String text, View parent, java.util.function.Supplier<int[]> index,
            boolean collapsesWhitespace) {
        return new View(name, text, null, null, parent, index, null, collapsesWhitespace);
    }

    /**
     * The same, with {@code locate} answering the parent index of one char without the table
     * (from marks the view's build left): mapping a whole text's few matches back then costs a
     * short read each instead of a table as long as the text.
     */
    static View derived(String name, String text, char[] chars, View parent, java.util.function.Supplier<int[]> index,
            java.util.function.IntUnaryOperator locate, boolean collapsesWhitespace) {
        View view = new View(name, text, null, null, parent, index, locate, collapsesWhitespace);
        view.chars = chars;
        return view;
    }

    /** The view's chars as an array (its first {@link #length()}), when its builder kept one; else null. */
    char[] chars() {
        return chars;
    }

    private int parentIndex(int i) {
        if (parentIndex == null) {
            if (locate != null && text.length() >= LOCATE_FROM_LENGTH && located < text.length() / CHARS_PER_LOCATE) {
                located++;
                return locate.applyAsInt(i);
            }
            parentIndex = index.get();
        }
        return parentIndex[i];
    }

    /** The parent index of char {@code i} found without the table (tests compare it with the table). */
    int locateInParent(int i) {
        return locate.applyAsInt(i);
    }

    int length() {
        return text.length();
    }

    /** Original offset where view char {@code i} starts. */
    int originalStart(int i) {
        if (parent != null) {
            return parent.originalStart(parentIndex(i));
        }
        return origins == null ? i : origins.startOf(i);
    }

    /** Original offset (exclusive) where view char {@code i} ends. */
    int originalEnd(int i) {
        if (parent != null) {
            int p = parentIndex(i);
            if (collapsesWhitespace && text.charAt(i) == ' ') {
                // the space stands for the whole whitespace run of the parent
                String pt = parent.text;
                while (p + 1 < pt.length() && Character.isWhitespace(pt.charAt(p + 1))) {
                    p++;
                }
            }
            return parent.originalEnd(p);
        }
        if (origins == null) {
            return i + 1;
        }
        int s = origins.startOf(i); // the char came from the code point there (a fold may expand one into several chars)
        return s + Character.charCount(original.codePointAt(s));
    }

    /**
     * Where each char of a clean view starts in the original, as pieces: a run of ASCII copied
     * as it was (char i of the piece is original char start + i), or the chars one code point
     * folded into (all start where it does). A text with a few non-ASCII code points is a few
     * pieces, where an array of every char's start was four bytes per char to write.
     */
    static final class Origins {
        private int[] cleanAt = new int[8];
        private int[] originalAt = new int[8];
        private boolean[] copied = new boolean[8];
        private int pieces;

        /** The next {@code length} chars are original chars {@code from}, {@code from + 1}, ... */
        void copied(int cleanFrom, int from) {
            add(cleanFrom, from, true);
        }

        /** The next chars all come from the code point at {@code from}. */
        void folded(int cleanFrom, int from) {
            add(cleanFrom, from, false);
        }

        private void add(int cleanFrom, int from, boolean copy) {
            if (pieces == cleanAt.length) {
                cleanAt = java.util.Arrays.copyOf(cleanAt, pieces * 2);
                originalAt = java.util.Arrays.copyOf(originalAt, pieces * 2);
                copied = java.util.Arrays.copyOf(copied, pieces * 2);
            }
            cleanAt[pieces] = cleanFrom;
            originalAt[pieces] = from;
            copied[pieces] = copy;
            pieces++;
        }

        int startOf(int i) {
            int lo = 0;
            int hi = pieces - 1;
            while (lo < hi) { // the last piece beginning at or before i
                int mid = (lo + hi + 1) >>> 1;
                if (cleanAt[mid] <= i) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            return copied[lo] ? originalAt[lo] + i - cleanAt[lo] : originalAt[lo];
        }
    }

    /** Number of view chars whose original start lies before {@code originalOffset}. */
    int countBefore(int originalOffset) {
        int lo = 0;
        int hi = text.length();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (originalStart(mid) < originalOffset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
