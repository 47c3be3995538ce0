package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a pattern's matches can start, found without entering the regex engine: a cheap pass
 * over the text (a char search, a literal search, a run of token chars) names a superset of the
 * positions where an attempt can succeed, and {@link OpenMatch} tries only those. Each source
 * must include the start of every match; naming too many positions only costs time.
 */
interface Starts {

    /** Walks one text: {@link #next(int)} with non-decreasing arguments. */
    interface Cursor {
        /** The first position at or after {@code from} where a match may start, or -1 when none is left. */
        int next(int from);
    }

    Cursor open(String text);

    /** Every position (what {@link java.util.regex.Matcher#find()} tries). */
    Starts ANYWHERE = text -> from -> from;

    /**
     * For a pattern every match of which holds one of {@code anchors} (ASCII chars) at most
     * {@code within} chars after its start: the positions up to {@code within} before each anchor.
     */
    static Starts anchored(String anchors, int within) {
        boolean[] table = new boolean[128];
        for (char c : anchors.toCharArray()) {
            if (c >= 128) {
                throw new IllegalArgumentException("anchors are ASCII");
            }
            table[c] = true;
        }
        char single = anchors.length() == 1 ? anchors.charAt(0) : 0;
        return text -> new Cursor() {
            private int anchor = -1;

            @Override
            public int next(int from) {
                if (anchor < from) {
                    anchor = single != 0 ? text.indexOf(single, from) : indexOfAny(text, table, from);
                    if (anchor < 0) {
                        anchor = Integer.MAX_VALUE;
                    }
                }
                return anchor == Integer.MAX_VALUE ? -1 : Math.max(from, anchor - within);
            }
        };
    }

    /** A necessary condition on the text from {@code at} for a match to begin there. */
    @FunctionalInterface
    interface Shape {
        boolean fits(String text, int at);
    }

    /**
     * The positions {@code starts} names where {@code shape} holds: for a necessary condition on
     * the text from a match's start that is cheaper than an attempt of the regex.
     */
    static Starts where(Starts starts, Shape shape) {
        return text -> {
            Cursor inner = starts.open(text);
            return from -> {
                for (int s = inner.next(from); s >= 0; s = inner.next(s + 1)) {
                    if (shape.fits(text, s)) {
                        return s;
                    }
                }
                return -1;
            };
        };
    }

    /** The ASCII digits, the anchor of every number-shaped pattern. */
    String DIGITS = "0123456789";

    /**
     * Every ASCII digit: for a pattern every match of which begins with one. A detector scanning a
     * {@link NormalizedText} takes them from the view's shared {@link DigitRuns}.
     */
    Starts DIGIT = anchored(DIGITS, 0);

    /**
     * A necessary condition for a match to begin at the first digit of run {@code k} of the text's
     * digit runs; read from the runs (their lengths and the gaps between them) where it can be.
     */
    @FunctionalInterface
    interface DigitShape {
        boolean fits(String text, DigitRuns runs, int k);
    }

    /**
     * For a pattern every match of which begins with a digit that has no digit before it and is
     * followed by what {@code shape} requires (a dotted quad's "1-3 digits and a dot" three
     * times, say): the first digits of the digit runs where the shape fits. In logs most digit
     * runs are timestamps, ids and counters; entering the regex engine at each was a tenth of a scan.
     */
    static ShapedDigits digitRuns(DigitShape shape) {
        return new ShapedDigits(shape, null);
    }

    /** The starts {@link #digitRuns} names, over the digit runs of the text (found here, or shared by a view). */
    record ShapedDigits(DigitShape shape, DigitRuns runs) implements Starts {

        /** The same starts over {@code runs}, the digit runs of the text the cursor will be opened on. */
        ShapedDigits over(DigitRuns runs) {
            return new ShapedDigits(shape, runs);
        }

        @Override
        public Cursor open(String text) {
            DigitRuns all = runs != null ? runs : DigitRuns.of(text);
            return new Cursor() {
                private int k; // the first run not yet passed over

                @Override
                public int next(int from) {
                    // no match begins inside a run: only the runs' first digits are visited
                    while (k > 0 && all.start(k - 1) >= from) {
                        k--; // asked for an earlier position
                    }
                    for (int count = all.count(); k < count; k++) {
                        int d = all.start(k);
                        if (d >= from && shape.fits(text, all, k)) {
                            return d;
                        }
                    }
                    return -1;
                }
            };
        }
    }

    static int indexOfAny(String text, boolean[] table, int from) {
        int n = text.length();
        for (int i = from; i < n; i++) {
            char c = text.charAt(i);
            if (c < 128 && table[c]) {
                return i;
            }
        }
        return -1;
    }

    /**
     * For a pattern every match of which begins with one of {@code words} (ASCII, non-empty): the
     * positions where one of them occurs. One pass over the text, checking each position's first
     * two chars against a table and only then the words themselves.
     */
    static Starts literals(List<String> words) {
        return new Literals(words);
    }

    /**
     * For a pattern whose matches start a run of {@code runChars} (ASCII; the pattern's own
     * look-behind rules out a start after one of them) and lie inside that run for their first
     * {@code minLength} chars: the starts of the runs at least that long.
     */
    static Starts runs(boolean[] runChars, int minLength) {
        return text -> new Cursor() {
            private int start = -1;
            private int end = -1;

            @Override
            public int next(int from) {
                int n = text.length();
                if (start >= from) {
                    return start;
                }
                int i = Math.max(from, end);
                if (i > 0 && i < n && i == from && inRun(text.charAt(i - 1))) {
                    while (i < n && inRun(text.charAt(i))) {
                        i++; // from lies inside a run: no start before its end
                    }
                }
                // i is where no run goes on from before it. A long enough run starting in [i, p]
                // covers p, so the char at p decides: outside a run, none starts up to p; inside
                // one, that run is the only candidate (most chars are never read, in prose and code
                // whose runs are words).
                int least = Math.max(1, minLength);
                while (i + least - 1 < n) {
                    int p = i + least - 1;
                    if (!inRun(text.charAt(p))) {
                        i = p + 1;
                        continue;
                    }
                    int s = p;
                    while (s > i && inRun(text.charAt(s - 1))) {
                        s--;
                    }
                    int e = p + 1;
                    while (e < n && inRun(text.charAt(e))) {
                        e++;
                    }
                    if (e - s >= least) {
                        start = s;
                        end = e;
                        return s;
                    }
                    i = e;
                }
                start = Integer.MAX_VALUE;
                end = n;
                return -1;
            }

            private boolean inRun(char c) {
                return c < 128 && runChars[c];
            }
        };
    }

    /**
     * For a pattern whose matches are a run of 1 to {@code maxRun} {@code runChars} (preceded by
     * none of them: its look-behind), an optional space and then {@code anchor} (an e-mail
     * address's local part and "@"): the one position per anchor where such a run can begin.
     */
    static Starts runBefore(char anchor, boolean[] runChars, int maxRun) {
        return text -> new Cursor() {
            private int anchorAt = -1;
            private int start = -1;

            @Override
            public int next(int from) {
                while (start < from) {
                    anchorAt = text.indexOf(anchor, anchorAt + 1);
                    if (anchorAt < 0) {
                        start = Integer.MAX_VALUE;
                        return -1;
                    }
                    int end = anchorAt > 0 && text.charAt(anchorAt - 1) == ' ' ? anchorAt - 1 : anchorAt;
                    int r = end;
                    while (r > 0 && end - r < maxRun && in(text.charAt(r - 1))) {
                        r--;
                    }
                    boolean tooLong = end - r == maxRun && r > 0 && in(text.charAt(r - 1));
                    if (r < end && !tooLong) {
                        start = r;
                    }
                }
                return start == Integer.MAX_VALUE ? -1 : start;
            }

            private boolean in(char c) {
                return c < 128 && runChars[c];
            }
        };
    }

    /** Where a pattern's attempt from {@code s} ends, read by hand: its match end, or -1 when it does not match there. */
    @FunctionalInterface
    interface MatchEnd {
        int at(String text, int s);
    }

    /**
     * The matches a finder that reads them by hand reports, as {@code Matcher.find(from)} and then
     * {@code find()} report them: tried at each start {@code cursor} names (every match's among
     * them), the search resuming at each match's end. A match is never empty.
     */
    static void eachMatch(String text, int from, Cursor cursor, MatchEnd end, PrivateKeyScanner.Sink sink) {
        int n = text.length();
        int s = from;
        while (s < n) {
            s = cursor.next(s);
            if (s < 0 || s >= n) {
                return;
            }
            int e = end.at(text, s);
            if (e >= 0) {
                sink.accept(s, e);
                s = e;
            } else {
                s++;
            }
        }
    }

    /** ASCII chars as a table for {@link #runs}. */
    static boolean[] chars(String chars) {
        boolean[] table = new boolean[128];
        for (char c : chars.toCharArray()) {
            table[c] = true;
        }
        return table;
    }

    /** The literal-start source: a first-two-chars table, then the words with those first chars. */
    final class Literals implements Starts {
        private final boolean[] first = new boolean[128];
        private final boolean[] pair = new boolean[128 * 128];
        /** First chars that are a word on their own. */
        private final boolean[] single = new boolean[128];
        private final String[][] byFirst = new String[128][];
        /** The words starting with each pair of ASCII chars (and the one-char words of its first), or null. */
        private final String[][] byPair = new String[128 * 128][];
        private final List<String> order;
        /**
         * The words' pairs of adjacent chars ({@link CharPairs#hashes}), grouped by a key pair each
         * word holds (its rarest: the one with the char least common in text), so that a text
         * without a key pair rules out that key's words after one bit test; most texts hold none.
         */
        private final int[] keyPairs;
        private final int[][][] pairsByKey;
        /** Whether a word of one char has no pairs to rule it out. */
        private final boolean unpaired;

        Literals(List<String> words) {
            Set<String> unique = new LinkedHashSet<>(words);
            this.order = List.copyOf(unique);
            java.util.Map<Integer, List<int[]>> byKey = new java.util.LinkedHashMap<>();
            for (String w : order) {
                if (w.length() > 1) {
                    byKey.computeIfAbsent(keyPair(w), k -> new ArrayList<>()).add(CharPairs.hashes(w));
                }
            }
            this.keyPairs = byKey.keySet().stream().mapToInt(Integer::intValue).toArray();
            this.pairsByKey = byKey.values().stream().map(list -> list.toArray(int[][]::new)).toArray(int[][][]::new);
            this.unpaired = order.stream().anyMatch(w -> w.length() == 1);
            List<List<String>> grouped = new ArrayList<>();
            for (int c = 0; c < 128; c++) {
                grouped.add(new ArrayList<>());
            }
            for (String w : unique) {
                if (w.isEmpty() || !w.chars().allMatch(c -> c < 128)) {
                    throw new IllegalArgumentException("literal starts are non-empty ASCII: '" + w + "'");
                }
                char c0 = w.charAt(0);
                first[c0] = true;
                grouped.get(c0).add(w);
                if (w.length() == 1) {
                    single[c0] = true;
                    for (int c1 = 0; c1 < 128; c1++) {
                        pair[c0 * 128 + c1] = true;
                    }
                } else if (w.charAt(1) < 128) {
                    pair[c0 * 128 + w.charAt(1)] = true;
                }
            }
            for (int c = 0; c < 128; c++) {
                byFirst[c] = grouped.get(c).toArray(String[]::new);
                for (int d = 0; d < 128; d++) {
                    int cd = c * 128 + d;
                    List<String> withPair = new ArrayList<>();
                    for (String w : grouped.get(c)) {
                        if (w.length() == 1 || w.charAt(1) == d) {
                            withPair.add(w);
                        }
                    }
                    if (!withPair.isEmpty()) {
                        byPair[cd] = withPair.toArray(String[]::new);
                    }
                }
            }
            chooseAnchors(unique);
        }

        /** The words, in the order given (duplicates once). */
        List<String> words() {
            return order;
        }

        /**
         * False when no word can occur in a text with these {@code pairs}: each lacks a pair of
         * adjacent chars of its own. Then a search would find nothing, and it is not begun.
         */
        boolean mayOccurIn(CharPairs pairs) {
            if (unpaired || pairs == CharPairs.ANY) {
                return true;
            }
            for (int k = 0; k < keyPairs.length; k++) {
                if (pairs.has(keyPairs[k])) {
                    for (int[] hashes : pairsByKey[k]) {
                        if (pairs.mayHold(hashes)) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /** The hash of the word's pair holding its least common char ({@link #commonness}), the first such pair. */
        private static int keyPair(String word) {
            int best = 1;
            for (int i = 1; i < word.length(); i++) {
                int rarity = Math.min(commonness(word.charAt(i - 1)), commonness(word.charAt(i)));
                if (rarity < Math.min(commonness(word.charAt(best - 1)), commonness(word.charAt(best)))) {
                    best = i;
                }
            }
            return CharPairs.hash(word.charAt(best - 1), word.charAt(best));
        }

        /** The first position at or after {@code from} where one of the words occurs, or -1. */
        int indexIn(String text, int from) {
            int n = text.length();
            for (int i = from; i < n; i++) {
                char c = text.charAt(i);
                if (c >= 128 || !first[c]) {
                    continue;
                }
                String[] words = candidates(text, i, c);
                if (words == null) {
                    continue;
                }
                for (String w : words) {
                    if (occursAt(text, w, i)) {
                        return i;
                    }
                }
            }
            return -1;
        }

        /** Whether one of the words occurs at {@code i}. */
        boolean hasWordAt(String text, int i) {
            char c = text.charAt(i);
            if (c >= 128 || !first[c]) {
                return false;
            }
            String[] words = candidates(text, i, c);
            if (words != null) {
                for (String w : words) {
                    if (occursAt(text, w, i)) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** The words that may occur at {@code i} (where {@code c} stands), by its first two chars; null for none. */
        private String[] candidates(String text, int i, char c) {
            if (i + 1 >= text.length()) {
                return byFirst[c];
            }
            char d = text.charAt(i + 1);
            return d < 128 ? byPair[c * 128 + d] : single[c] ? byFirst[c] : null;
        }

        @Override
        public Cursor open(String text) {
            if (anchors != null) {
                return new AnchorCursor(text);
            }
            return new Cursor() {
                private int hit = -1;

                @Override
                public int next(int from) {
                    if (hit == Integer.MAX_VALUE) {
                        return -1;
                    }
                    if (hit < from) {
                        hit = indexIn(text, from);
                        if (hit < 0) {
                            hit = Integer.MAX_VALUE;
                            return -1;
                        }
                    }
                    return hit;
                }
            };
        }

        /**
         * When every word has a char that is rare in text (upper case, digit, punctuation: "ghp_",
         * "AKIA", "eyJ"), the words are found through that char at its offset, with the JDK's
         * vectorised char search, instead of reading every position.
         */
        private record Anchor(char c, int offset, String[] words, int side, boolean[] beside) {

            /**
             * An anchor with the chars its words have next to it ({@code side} -1: before, +1:
             * after, 0: none to check), so that most occurrences of a common anchor ("-", "_")
             * are passed over after one table look-up.
             */
            static Anchor of(char c, int offset, String[] words) {
                int side = offset > 0 ? -1 : java.util.Arrays.stream(words).allMatch(w -> w.length() > 1) ? 1 : 0;
                boolean[] beside = new boolean[128];
                for (String w : words) {
                    if (side != 0) {
                        beside[w.charAt(offset + side)] = true;
                    }
                }
                return new Anchor(c, offset, words, side, beside);
            }
        }

        private Anchor[] anchors;

        private void chooseAnchors(Set<String> words) {
            java.util.Map<String, List<String>> byAnchor = new java.util.LinkedHashMap<>();
            for (String w : words) {
                int best = 0;
                for (int k = 1; k < w.length(); k++) {
                    if (commonness(w.charAt(k)) < commonness(w.charAt(best))) {
                        best = k;
                    }
                }
                if (commonness(w.charAt(best)) >= LOWER_CASE) {
                    return; // a word of common letters only: read every position
                }
                byAnchor.computeIfAbsent(w.charAt(best) + ":" + best, key -> new ArrayList<>()).add(w);
            }
            shareAnchors(byAnchor);
            anchors = byAnchor.entrySet().stream().map(e -> {
                String key = e.getKey();
                return Anchor.of(key.charAt(0), Integer.parseInt(key.substring(2)), e.getValue().toArray(String[]::new));
            }).toArray(Anchor[]::new);
            groupAnchors();
        }

        private static final int LOWER_CASE = 50;

        /**
         * Drops an anchor char whose every word also holds the char of another anchor at that
         * anchor's offset, moving those words to it: that char's occurrences are read anyway, so
         * the dropped char's searches and occurrences were extra work. The AWS key prefixes "AKIA",
         * "ABIA" and "ACCA" were found through "K", "B" and "C" beside "ASIA" and "A3T" through
         * their "A": four searches of each text where the one for "A" finds them all.
         */
        private static void shareAnchors(java.util.Map<String, List<String>> byAnchor) {
            boolean dropped = true;
            while (dropped) {
                dropped = false;
                for (char c : byAnchor.keySet().stream().map(key -> key.charAt(0)).distinct().toList()) {
                    java.util.Map<String, String> moves = new java.util.LinkedHashMap<>(); // word -> the anchor it moves to
                    boolean all = true;
                    for (var entry : byAnchor.entrySet()) {
                        if (entry.getKey().charAt(0) != c) {
                            continue;
                        }
                        for (String w : entry.getValue()) {
                            String to = byAnchor.keySet().stream().filter(key -> key.charAt(0) != c && fits(w, key)).findFirst().orElse(null);
                            all &= to != null;
                            moves.put(w, to);
                        }
                    }
                    if (all) {
                        byAnchor.keySet().removeIf(key -> key.charAt(0) == c);
                        moves.forEach((w, to) -> byAnchor.get(to).add(w));
                        dropped = true;
                        break;
                    }
                }
            }
        }

        /** Whether {@code word} holds the anchor {@code key} ("c:offset") char at its offset. */
        private static boolean fits(String word, String key) {
            int offset = Integer.parseInt(key.substring(2));
            return offset < word.length() && word.charAt(offset) == key.charAt(0);
        }

        /** A rough rank of how often a char occurs in prose and code (lower: rarer). */
        private static int commonness(char c) {
            if (c >= 'a' && c <= 'z') {
                return LOWER_CASE + "zqjxkvbpgwyfmculdhrsnioate".indexOf(c);
            }
            if (c >= 'A' && c <= 'Z') {
                return "AEIOST".indexOf(c) >= 0 ? 25 : 10;
            }
            if (c >= '0' && c <= '9') {
                return 30;
            }
            return c == ' ' || c == '\n' ? 90 : 40;
        }

        /**
         * The anchors by char, so that each occurrence of a char is found once for all the anchors
         * it stands for: the token prefixes put three anchors each on "_" and "-", which are common
         * in code and prose, and a search per anchor found every one of them three times.
         */
        private Anchor[][] byChar;
        /** Per group of {@link #byChar}: its smallest and largest offset. */
        private int[] minOffset;
        private int[] maxOffset;

        private void groupAnchors() {
            java.util.Map<Character, List<Anchor>> groups = new java.util.LinkedHashMap<>();
            for (Anchor a : anchors) {
                groups.computeIfAbsent(a.c(), c -> new ArrayList<>()).add(a);
            }
            byChar = groups.values().stream().map(g -> g.toArray(Anchor[]::new)).toArray(Anchor[][]::new);
            minOffset = new int[byChar.length];
            maxOffset = new int[byChar.length];
            for (int g = 0; g < byChar.length; g++) {
                minOffset[g] = java.util.Arrays.stream(byChar[g]).mapToInt(Anchor::offset).min().orElse(0);
                maxOffset[g] = java.util.Arrays.stream(byChar[g]).mapToInt(Anchor::offset).max().orElse(0);
            }
        }

        /** Per anchor char, the next word start found through it; the cursor answers the smallest. */
        private final class AnchorCursor implements Cursor {
            private final String text;
            /** Per group: the first word start at or after the last position asked for (-1: not looked for yet). */
            private final int[] next;

            AnchorCursor(String text) {
                this.text = text;
                this.next = new int[byChar.length];
                java.util.Arrays.fill(next, -1);
            }

            @Override
            public int next(int from) {
                int best = Integer.MAX_VALUE;
                for (int g = 0; g < byChar.length; g++) {
                    if (next[g] < from) {
                        next[g] = find(g, from);
                    }
                    best = Math.min(best, next[g]);
                }
                return best == Integer.MAX_VALUE ? -1 : best;
            }

            /**
             * The first word start at or after {@code from} found through group {@code g}'s char. An
             * occurrence at p gives starts p - offset, so once a start is found, only the occurrences
             * up to it plus the group's largest offset can give a smaller one.
             */
            private int find(int g, int from) {
                Anchor[] group = byChar[g];
                char c = group[0].c();
                int reach = maxOffset[g];
                int best = Integer.MAX_VALUE;
                for (int p = text.indexOf(c, from + minOffset[g]); p >= 0 && p - reach < best; p = text.indexOf(c, p + 1)) {
                    for (Anchor anchor : group) {
                        int at = p - anchor.offset();
                        if (at >= from && at < best && startsThrough(anchor, p, at)) {
                            best = at;
                        }
                    }
                }
                return best;
            }

            /** Whether one of the anchor's words begins at {@code at}, its anchor char standing at {@code p}. */
            private boolean startsThrough(Anchor anchor, int p, int at) {
                if (anchor.side() != 0) {
                    int q = p + anchor.side();
                    if (q >= text.length()) {
                        return false; // no word fits before the end
                    }
                    char b = text.charAt(q);
                    if (b >= 128 || !anchor.beside()[b]) {
                        return false;
                    }
                }
                if (at + 1 < text.length()) {
                    char c0 = text.charAt(at);
                    char c1 = text.charAt(at + 1);
                    if (c0 >= 128 || (c1 >= 128 ? !single[c0] : !pair[c0 * 128 + c1])) {
                        return false; // no word begins with these two chars
                    }
                }
                for (String w : anchor.words()) {
                    if (occursAt(text, w, at)) {
                        return true;
                    }
                }
                return false;
            }
        }
    }

    /** {@code text.startsWith(word, at)} for the short words here, without the vectorised compare's set-up cost. */
    static boolean occursAt(String text, String word, int at) {
        int n = word.length();
        if (at + n > text.length()) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            if (text.charAt(at + k) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The positions of a list made beforehand (ascending). */
    static Starts at(int[] positions) {
        return text -> new Cursor() {
            private int k;

            @Override
            public int next(int from) {
                while (k < positions.length && positions[k] < from) {
                    k++;
                }
                return k < positions.length ? positions[k] : -1;
            }
        };
    }
}
