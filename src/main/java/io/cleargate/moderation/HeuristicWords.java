package io.cleargate.moderation;

import java.util.Arrays;
import java.util.List;

/**
 * The words the injection heuristics look for, found in one pass over a view: which of them occur
 * at all (the heuristics' gates) and where each heuristic's anchor words occur (where its regex is
 * worth trying, see {@link InjectionDetector}). Each position is read once and its first three
 * letters looked up in a table; only positions where a word of those three letters begins are
 * compared with words. Before, each gate word was a search of its own and every position of both
 * views was compared with every leading word that shares its first two chars.
 */
final class HeuristicWords {

    /** Letters a-z as 1-26, anything else 0. */
    private static final byte[] LETTER = new byte[128];

    static {
        for (char c = 'a'; c <= 'z'; c++) {
            LETTER[c] = (byte) (c - 'a' + 1);
        }
    }

    private final List<String> words;
    /** The words as arrays, compared char by char where their trigram stands. */
    private final char[][] wordChars;
    /** Per word: 1 for a word under two letters, which {@link #anyGatePasses} counts as present without a scan. */
    private final byte[] shortWords;
    /**
     * The words of three letters or more by their first three letters (index of {@link #trigram}:
     * three letter numbers of five bits each, so that a pass moves the index on by a shift), or null.
     */
    private final int[][] byTrigram = new int[1 << 15][];
    /** One bit per trigram: whether a word begins with it. */
    private final long[] hasTrigram = new long[(1 << 15) / 64];
    /**
     * One bit per trigram: whether a word beginning with it is some owner's anchor. A pass stops
     * looking at a trigram once each of its words is known to be present and none is an anchor.
     */
    private final long[] anchorTrigram = new long[hasTrigram.length];
    /** The words of two letters by their letters (index of {@link #bigram}), or null. */
    private final int[][] byBigram = new int[27 * 27][];
    /** Per word: the owners (bit per owner) whose anchor it is; 0 for a word only looked up for presence. */
    private final long[] anchorOf;
    /** Per owner: its anchor words, as indexes into {@link #words}. */
    private final int[][] anchorWords;
    private final int owners;
    private static final int[] NONE = new int[0];

    /**
     * @param words   every word whose presence is asked for (lower-case letters, duplicates once)
     * @param anchors per owner, the words whose positions it needs (each one of {@code words}, at
     *                least three letters long)
     */
    HeuristicWords(List<String> words, List<List<String>> anchors) {
        if (anchors.size() > 64) {
            throw new IllegalArgumentException("at most 64 owners");
        }
        this.words = List.copyOf(words);
        this.wordChars = words.stream().map(String::toCharArray).toArray(char[][]::new);
        this.shortWords = new byte[words.size()];
        for (int w = 0; w < words.size(); w++) {
            shortWords[w] = (byte) (words.get(w).length() < 2 ? 1 : 0); // none today; present rather than unknown
        }
        this.owners = anchors.size();
        this.anchorOf = new long[words.size()];
        for (int w = 0; w < words.size(); w++) {
            String word = words.get(w);
            if (word.isEmpty() || !word.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
                throw new IllegalArgumentException("heuristic words are lower-case letters: '" + word + "'");
            }
            if (word.length() >= 3) {
                int t = trigram(word.charAt(0), word.charAt(1), word.charAt(2));
                int[] bucket = byTrigram[t] == null ? new int[0] : byTrigram[t];
                bucket = Arrays.copyOf(bucket, bucket.length + 1);
                bucket[bucket.length - 1] = w;
                byTrigram[t] = bucket;
                hasTrigram[t >>> 6] |= 1L << t;
            } else if (word.length() == 2) {
                int b = letter(word.charAt(0)) * 27 + letter(word.charAt(1));
                int[] bucket = byBigram[b] == null ? new int[0] : byBigram[b];
                bucket = Arrays.copyOf(bucket, bucket.length + 1);
                bucket[bucket.length - 1] = w;
                byBigram[b] = bucket;
            }
        }
        markStates();
        this.anchorWords = new int[anchors.size()][];
        for (int o = 0; o < anchors.size(); o++) {
            anchorWords[o] = anchors.get(o).stream().mapToInt(words::indexOf).toArray();
            for (String a : anchors.get(o)) {
                int w = words.indexOf(a);
                if (w < 0 || a.length() < 3) {
                    throw new IllegalArgumentException("anchor '" + a + "' must be a listed word of three letters or more");
                }
                anchorOf[w] |= 1L << o;
                int t = trigram(a.charAt(0), a.charAt(1), a.charAt(2));
                anchorTrigram[t >>> 6] |= 1L << t;
            }
        }
    }

    List<String> words() {
        return words;
    }

    /** An ASCII lower-case letter or digit: what the lower-case view's regexes allow before none of their words. */
    private static boolean isWordChar(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
    }

    /**
     * Per ASCII char, its letter number (as {@link #LETTER}) in the low bits and, at {@link
     * #WORD_SHIFT}, 1 when it is a lower-case letter or digit (what {@link #isWordChar} accepts).
     */
    private static final byte[] CLASS = new byte[128];
    private static final int LETTER_BITS = 31;
    private static final int WORD_SHIFT = 5;

    static {
        for (char c = 0; c < 128; c++) {
            CLASS[c] = (byte) (LETTER[c] | (isWordChar(c) ? 1 << WORD_SHIFT : 0));
        }
    }

    private static int charClass(char c) {
        return c < 128 ? CLASS[c] : 0;
    }

    private static int letter(char c) {
        return c < 128 ? LETTER[c] : 0;
    }

    private static int trigram(char a, char b, char c) {
        return letter(a) << 10 | letter(b) << 5 | letter(c);
    }

    /** What one pass over a view found. */
    static final class Found {
        private final String text;
        private final List<String> words;
        /** Per word: 0 not known yet (short words are looked up on demand), 1 present, 2 absent. */
        private final byte[] known;
        /** Per owner: its anchor positions (null for none) and how many of the array's slots hold one. */
        private final int[][] anchors;
        private final int[] counts;

        private Found(String text, List<String> words, byte[] known, int[][] anchors, int[] counts) {
            this.text = text;
            this.words = words;
            this.known = known;
            this.anchors = anchors;
            this.counts = counts;
        }

        /** Whether word {@code w} occurs in the view. */
        boolean present(int w) {
            if (known[w] == 0) {
                known[w] = text.contains(words.get(w)) ? (byte) 1 : (byte) 2; // a word of one or two letters
            }
            return known[w] == 1;
        }

        /** Ascending positions where one of the owner's anchor words begins (the first {@link #anchorCount}). */
        int[] anchors(int owner) {
            return anchors[owner] == null ? NONE : anchors[owner];
        }

        int anchorCount(int owner) {
            return counts[owner];
        }
    }

    /**
     * Compares the words of trigram {@code t}'s bucket at {@code i}, noting the ones found; clears
     * the trigram's bit in {@code live} once nothing at its positions can be new ({@link #anchorTrigram}).
     */
    private void compare(char[] chars, int n, int i, int t, byte[] known, int[][] found, int[] count, long[] live) {
        int[] bucket = byTrigram[t];
        boolean allKnown = true;
        for (int w : bucket) {
            if (known[w] == 1 && anchorOf[w] == 0) {
                continue; // only its presence was asked for, and it is known
            }
            if (restAt(chars, n, wordChars[w], i)) {
                known[w] = 1;
                for (long m = anchorOf[w]; m != 0; m &= m - 1) {
                    int o = Long.numberOfTrailingZeros(m);
                    int[] list = found[o];
                    if (list == null) {
                        list = found[o] = new int[8];
                    } else if (count[o] == list.length) {
                        list = found[o] = Arrays.copyOf(list, list.length * 2);
                    }
                    if (count[o] == 0 || list[count[o] - 1] != i) {
                        list[count[o]++] = i;
                    }
                }
            } else {
                allKnown = false;
            }
        }
        if (allKnown && (anchorTrigram[t >>> 6] & 1L << t) == 0) {
            // "the", "all", "are", ... stand every few words: once known present they are no
            // longer compared, and the pass's one branch is no longer taken where they begin
            live[t >>> 6] &= ~(1L << t);
        }
    }

    /** Whether {@code word} occurs at {@code at}, whose first three letters are known to match. */
    private static boolean restAt(char[] text, int length, char[] word, int at) {
        int n = word.length;
        if (at + n > length) {
            return false;
        }
        for (int k = 3; k < n; k++) {
            if (text[at + k] != word[k]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether some owner's gate passes on the letters-only view of a text (each of its groups, as
     * indexes into {@link #words()}, has a word that occurs there), read from the clean view's
     * first {@code n} chars through {@link NormalizedText#alnumClass} without building the view:
     * the same chars in the same order, so a word occurs here exactly when {@link #find} on the
     * view finds it. Stops at the first gate that passes; a text of ordinary prose (a short
     * answer) mostly has none, and then neither view nor pass is needed at all.
     */
    boolean anyGatePasses(char[] clean, int n, List<List<int[]>> gates) {
        GateWords index = gateWords(gates);
        if (index.passesBare()) {
            return true;
        }
        byte[] present = shortWords.clone();
        long[] gatesOf = index.gatesOf();
        // The last three view chars' letter numbers, five bits each (0: a digit or a letter outside
        // ASCII), moved on only by a char the view keeps, without a branch; one bit per state says
        // whether a listed word of two letters ends here or one of three or more begins two chars back.
        int state = 0;
        for (int i = 0; i < n; i++) {
            int x = NormalizedText.alnumClass(clean[i]);
            int kept = x >>> 5;
            int next = (state << 5 | x & LETTER_BITS) & STATE_BITS;
            state = kept != 0 ? next : state;
            if (((int) (gramAt[state >>> 6] >>> state) & kept) != 0) {
                long touched = foundAt(clean, n, i, state, present, gatesOf);
                if (touched != 0 && anyPasses(index.byGate(), present, gatesOf == null ? -1 : touched)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Three letter numbers of five bits each. */
    private static final int STATE_BITS = (1 << 15) - 1;

    /** Per packed state of {@link #anyGatePasses}: whether a word of two letters ends at its last char or one of three or more begins at its first. */
    private final long[] gramAt = new long[(STATE_BITS + 1) / 64];

    private void markStates() {
        for (int s = 0; s <= STATE_BITS; s++) {
            int a = s >>> 10;
            int b = s >>> 5 & LETTER_BITS;
            int c = s & LETTER_BITS;
            boolean letters = b >= 1 && b <= 26 && c >= 1 && c <= 26;
            boolean two = letters && byBigram[b * 27 + c] != null;
            boolean three = letters && a >= 1 && a <= 26 && byTrigram[s] != null;
            if (two || three) {
                gramAt[s >>> 6] |= 1L << s;
            }
        }
    }

    /**
     * Notes the words that state {@code state} at clean index {@code i} completes or begins; the
     * gates those that were new belong to ({@code gatesOf}: a bit per gate), or, without {@code
     * gatesOf}, -1 when one was new; 0 when none was.
     */
    private long foundAt(char[] clean, int n, int i, int state, byte[] present, long[] gatesOf) {
        int a = state >>> 10;
        int b = state >>> 5 & LETTER_BITS;
        int c = state & LETTER_BITS;
        long touched = 0;
        int[] two = b == 0 || c == 0 ? null : byBigram[b * 27 + c];
        if (two != null) {
            for (int w : two) {
                if (present[w] == 0) {
                    touched |= gatesOf == null ? -1 : gatesOf[w];
                }
                present[w] = 1;
            }
        }
        int[] three = a == 0 || b == 0 || c == 0 ? null : byTrigram[state];
        if (three != null) {
            for (int w : three) {
                if (present[w] == 0 && restInView(clean, n, i + 1, wordChars[w])) {
                    present[w] = 1;
                    touched |= gatesOf == null ? -1 : gatesOf[w];
                }
            }
        }
        return touched;
    }

    /**
     * Per word, a bit for each of {@code gates} that holds it (null for more than 64 gates): a
     * gate that did not pass can only pass once one of its own words is found, so only those
     * gates are asked again. Asking every gate at each new word ("the", "at", "me", ...) was a
     * sizeable part of the gate check on short texts. Kept for the last list of gates asked about.
     */
    private GateWords gateWords(List<List<int[]>> gates) {
        GateWords index = gateWords;
        if (index == null || index.gates() != gates) {
            int[][][] byGate = gates.stream().map(this::rarestFirst).toArray(int[][][]::new);
            index = new GateWords(gates, gates.size() > 64 ? null : new long[words.size()], anyPasses(byGate, shortWords.clone(), -1),
                    byGate);
            for (int g = 0; index.gatesOf() != null && g < gates.size(); g++) {
                for (int[] group : gates.get(g)) {
                    for (int w : group) {
                        index.gatesOf()[w] |= 1L << g;
                    }
                }
            }
            gateWords = index;
        }
        return index;
    }

    /**
     * The gates' words ({@code gatesOf}, as above) and whether a gate passes before any word is
     * read ({@code passesBare}: one without groups, or whose groups the words under two letters
     * meet): the same answer for every text, and asking every gate for it was a fifth of the gate
     * check on a record of dense personal data (speed.md 3r).
     */
    private record GateWords(List<List<int[]>> gates, long[] gatesOf, boolean passesBare, int[][][] byGate) {}

    /** The words of the gates last asked about (see {@link #gateWords}); rebuilt when other gates are asked about. */
    private volatile GateWords gateWords;

    /**
     * A gate's groups as arrays, those whose shortest word is longest first: a gate passes when
     * every group has a word present, in any order, and it is asked again whenever one of its
     * words turns up, mostly a short one ("the", "your", "me") while a group of long words
     * ("instructions", "restrictions") is still missing, which is then read first. Asked through
     * the list's iterator in the template's order, the gates touched by a new word were a third of
     * the gate check's samples on dense personal data (speed.md 3r).
     */
    private int[][] rarestFirst(List<int[]> groups) {
        return groups.stream()
                .sorted(java.util.Comparator.comparingInt((int[] group) -> -Arrays.stream(group).map(w -> wordChars[w].length).min().orElse(0)))
                .toArray(int[][]::new);
    }

    /** Whether one of the gates ({@code byGate}) whose bit is set in {@code which} passes; -1: every gate, up to 64 and beyond. */
    private static boolean anyPasses(int[][][] byGate, byte[] present, long which) {
        if (which == -1) {
            for (int[][] groups : byGate) {
                if (passes(groups, present)) {
                    return true;
                }
            }
            return false;
        }
        for (long m = which; m != 0; m &= m - 1) {
            if (passes(byGate[Long.numberOfTrailingZeros(m)], present)) {
                return true;
            }
        }
        return false;
    }

    private static boolean passes(int[][] groups, byte[] present) {
        for (int[] group : groups) {
            boolean any = false;
            for (int w : group) {
                any |= present[w] == 1;
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    /** Whether the view chars from clean index {@code from} on are {@code word}'s from its fourth letter on. */
    private static boolean restInView(char[] clean, int n, int from, char[] word) {
        int j = from;
        for (int k = 3; k < word.length; k++) {
            char v = 0;
            while (j < n && (v = NormalizedText.alnumChar(clean[j])) == 0) {
                j++;
            }
            if (j == n || v != word[k]) {
                return false;
            }
            j++;
        }
        return true;
    }

    Found find(String text) {
        return find(text, false);
    }

    /**
     * What the pass over the lower-case view with word starts ({@link #find(char[], String, boolean)})
     * is asked for, answered from the pass over the letters-only view of the same text
     * ({@code inAlnum}) instead of a second pass over every char. A word standing at a word start
     * of the lower-case view stands, as the same letters, in the letters-only view where that
     * view's char of its first letter stands: the letters-only view keeps every letter the
     * lower-case view writes, as that letter, and drops nothing between two letters. So each
     * anchor position of the lower-case pass is one of the letters-only pass's, mapped by
     * {@code lowerIndexOfAlnum}; a mapped position is kept when one of the owner's anchor words
     * stands there in {@code lower} (its first {@code n} chars) at a word start, which makes the
     * anchors exactly the lower-case pass's. Presence is the letters-only view's: it holds every
     * word the lower-case view holds at a word start, and more, which only lets a gate pass whose
     * regex then finds nothing (every match holds a word of each gate's groups at a word start).
     * Anchors are rare (about one per 600 chars of the mixed corpus), the pass read every char.
     */
    Found atWordStarts(Found inAlnum, char[] lower, int n, java.util.function.IntUnaryOperator lowerIndexOfAlnum) {
        int[][] found = new int[owners][];
        int[] count = new int[owners];
        for (int o = 0; o < owners; o++) {
            int[] positions = inAlnum.anchors(o);
            for (int k = 0; k < inAlnum.anchorCount(o); k++) {
                int j = lowerIndexOfAlnum.applyAsInt(positions[k]);
                if (anchorStartsAt(lower, n, j, o)) {
                    if (found[o] == null) {
                        found[o] = new int[8];
                    } else if (count[o] == found[o].length) {
                        found[o] = Arrays.copyOf(found[o], count[o] * 2);
                    }
                    found[o][count[o]++] = j;
                }
            }
        }
        return new Found(inAlnum.text, words, inAlnum.known, found, count);
    }

    /** Whether one of the owner's anchor words stands at {@code j} of {@code chars} (first {@code n}) at a word start. */
    private boolean anchorStartsAt(char[] chars, int n, int j, int owner) {
        if (j > 0 && isWordChar(chars[j - 1])) {
            return false;
        }
        for (int w : anchorWords[owner]) {
            char[] word = wordChars[w];
            if (j + word.length <= n && Arrays.equals(chars, j, j + word.length, word, 0, word.length)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The pass over a view; with {@code wordStarts}, only occurrences at a word start count (no
     * ASCII letter or digit before them). On the lower-case view every word of a heuristic's match
     * stands at one: its regex begins with "(?<![a-z0-9])" and each later word follows a
     * separator, which is never a letter or digit. So neither a gate nor an anchor window loses a
     * match, and the words inside longer words ("act" in "abstract", "from" in "wherefrom") are
     * not compared at all.
     */
    Found find(String text, boolean wordStarts) {
        return find(text.toCharArray(), text, wordStarts);
    }

    /** The same on {@code chars}, whose first {@code text.length()} chars are the view's (its builder's array). */
    Found find(char[] chars, String text, boolean wordStarts) {
        byte[] known = new byte[words.size()];
        for (int w = 0; w < words.size(); w++) {
            if (words.get(w).length() >= 3) {
                known[w] = 2; // absent unless the pass meets it
            }
        }
        int[][] found = new int[owners][];
        int[] count = new int[owners];
        long[] live = hasTrigram.clone(); // the trigrams still worth comparing at
        int n = text.length();
        if (n >= 3 && wordStarts) {
            // Only where a word starts, with one branch per position, rarely taken: the trigram's
            // bit and whether the char before is an ASCII letter or digit are combined before the
            // test. Skipping from word start to word start took a mispredicted branch at the end
            // of every word, and cost a quarter more on the mixed corpus.
            int before = 0; // the class of the char before position i (none before 0: not a letter or digit)
            int x0 = charClass(chars[0]);
            int x1 = charClass(chars[1]);
            int t = (x0 & LETTER_BITS) << 5 | x1 & LETTER_BITS;
            for (int i = 0; i + 2 < n; i++) {
                int x2 = charClass(chars[i + 2]); // each char is looked up once, as it enters the trigram
                t = (t << 5 | x2 & LETTER_BITS) & STATE_BITS;
                int set = (int) (live[t >>> 6] >>> t) & 1; // the shift counts mod 64, as 1L << t does
                if ((set & ~(before >>> WORD_SHIFT)) != 0) {
                    compare(chars, n, i, t, known, found, count, live);
                }
                before = x0;
                x0 = x1;
                x1 = x2;
            }
        } else if (n >= 3) {
            int t = letter(chars[0]) << 5 | letter(chars[1]);
            for (int i = 0; i + 2 < n; i++) {
                t = (t << 5 | letter(chars[i + 2])) & STATE_BITS;
                if ((live[t >>> 6] & 1L << t) != 0) { // most positions: a small bit table answers
                    compare(chars, n, i, t, known, found, count, live);
                }
            }
        }
        return new Found(text, words, known, found, count);
    }
}
