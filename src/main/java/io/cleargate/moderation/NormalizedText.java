package io.cleargate.moderation;

import com.ibm.icu.text.Normalizer2;
import com.ibm.icu.text.SpoofChecker;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A text prepared for matching, hardened against the usual evasions before any detector runs:
 * <ol>
 *   <li>invisible characters are removed: zero-width, bidi controls, Unicode tag characters,
 *       variation selectors, soft hyphens and other format characters;</li>
 *   <li>each code point is NFKC-normalised (fullwidth and mathematical letters, ligatures);</li>
 *   <li>diacritics are dropped and non-ASCII digits become ASCII digits;</li>
 *   <li>a non-ASCII letter whose UTS #39 confusable skeleton is ASCII becomes that ASCII
 *       (Cyrillic "а" → "a"), so a homoglyph cannot hide a secret or a keyword. ASCII itself is
 *       never skeletonised: the skeleton maps "m" to "rn" and "0" to "O", which is right for
 *       comparing identifiers but would break digits and e-mail addresses.</li>
 * </ol>
 * The views are computed per code point so that offsets map back exactly and a stream can be
 * normalised piecewise with the same result.
 *
 * <p>Views: {@code clean} (case kept), {@code lower} (lower case, whitespace runs collapsed),
 * {@code compact} (clean without whitespace and decorative punctuation, defeats inserted
 * spaces) and {@code alnum} (lower-case letters and digits only, defeats any inserted separator).
 */
final class NormalizedText {

    private static final Normalizer2 NFKC = Normalizer2.getNFKCInstance();
    private static final Normalizer2 NFD = Normalizer2.getNFDInstance();
    private static final SpoofChecker SPOOF = new SpoofChecker.Builder().build();
    private static final ConcurrentHashMap<Integer, String> FOLDED = new ConcurrentHashMap<>();

    final String original;
    final View clean;
    /** How many invisible code points were removed and how many were folded (for explain mode). */
    final int removedInvisible;
    final int foldedCodePoints;
    private View lower;
    private View compact;
    private View alnum;
    private DigitRuns cleanDigits;
    private DigitRuns compactDigits;
    /** The char pairs of the clean and the compact view ({@link CharPairs}), found once for every literal probe. */
    private CharPairs cleanPairs;
    private CharPairs compactPairs;
    /** What detectors derived from this text and share (start positions of shared word lists). */
    private java.util.Map<Object, Object> memo;
    /** A stream's search positions, when this text is a stream's rescan (null for a whole text). */
    private Searches searches;

    /**
     * The clean view's chars as an array, shared by the derived views' builders: reading a
     * UTF-16 string char by char kept a bounds check per char that reading an array does not.
     */
    private char[] cleanChars;

    private NormalizedText(String original, View clean, int removedInvisible, int foldedCodePoints) {
        this.original = original;
        this.clean = clean;
        this.removedInvisible = removedInvisible;
        this.foldedCodePoints = foldedCodePoints;
    }

    static NormalizedText of(String original) {
        int n = original.length();
        char[] src = original.toCharArray(); // read as an array: no bounds check per char of a UTF-16 string
        if (isAscii(src)) {
            // ASCII is its own clean view, and its array is the one every view builder reads
            NormalizedText text = new NormalizedText(original, View.identity("clean", original), 0, 0);
            text.cleanChars = src;
            return text;
        }
        char[] chars = new char[n + 16];
        var origins = new View.Origins();
        int k = 0;
        int removed = 0;
        int folded = 0;
        for (int i = 0; i < n; ) {
            int run = asciiRunEnd(src, i, n);
            if (run > i) { // the common case, copied without the code point and fold machinery
                int length = run - i;
                if (k + length > chars.length) {
                    chars = java.util.Arrays.copyOf(chars, Math.max(chars.length * 2, k + length));
                }
                System.arraycopy(src, i, chars, k, length);
                origins.copied(k, i);
                k += length;
                i = run;
                if (i == n) {
                    break;
                }
            }
            int cp = Character.codePointAt(src, i);
            int next = i + Character.charCount(cp);
            if (isInvisible(cp)) {
                removed++;
                i = next;
                continue;
            }
            String mapped = fold(cp);
            if (mapped.length() != 1 || mapped.charAt(0) != cp) {
                folded++;
            }
            int count = mapped.length();
            if (count == 0) {
                i = next;
                continue; // folded to nothing (a stray mark): no chars, no piece
            }
            if (k + count > chars.length) {
                chars = java.util.Arrays.copyOf(chars, Math.max(chars.length * 2, k + count));
            }
            origins.folded(k, i); // every char of a folded code point maps to all of it (View.originalEnd)
            for (int c = 0; c < count; c++) {
                chars[k++] = mapped.charAt(c);
            }
            i = next;
        }
        View clean = View.mapped("clean", new String(chars, 0, k), origins, original);
        NormalizedText text = new NormalizedText(original, clean, removed, folded);
        text.cleanChars = chars; // its first k chars are the clean view
        return text;
    }

    /**
     * Whether every char is ASCII: the chars of each block or'ed together (a loop without an exit
     * per char, which the JIT unrolls), stopping at the first block that is not. Reading the
     * string with charAt until the first char of U+0080 or above kept a bounds check per char: a
     * tenth of a short answer's moderation.
     */
    private static boolean isAscii(char[] chars) {
        for (int from = 0; from < chars.length; from += ASCII_BLOCK) {
            int all = 0;
            for (int i = from, to = Math.min(chars.length, from + ASCII_BLOCK); i < to; i++) {
                all |= chars[i];
            }
            if (all >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static final int ASCII_BLOCK = 256;

    /**
     * The end of the ASCII run from {@code i}: the first index at or after it whose char is not
     * ASCII, or {@code n}. Blocks of {@link #RUN_BLOCK} chars are or'ed together (no exit per
     * char), and only the block that holds the run's end is read char by char. A method of its
     * own, called once per run: as a loop inside {@link #of}'s loop over a long text that is
     * normalised a few hundred times (the bench's joined corpora), it ran in an on-stack-replacement
     * compilation at several cycles per char, 7% of the mixed corpus's samples.
     */
    static int asciiRunEnd(char[] src, int i, int n) {
        while (i + RUN_BLOCK <= n) {
            int all = 0;
            for (int k = i; k < i + RUN_BLOCK; k++) {
                all |= src[k];
            }
            if (all >= 0x80) {
                break;
            }
            i += RUN_BLOCK;
        }
        while (i < n && src[i] < 0x80) {
            i++;
        }
        return i;
    }

    private static final int RUN_BLOCK = 16;

    /** Makes this text a rescan of a stream whose searches resume as {@code searches} says. */
    NormalizedText resuming(Searches searches) {
        this.searches = searches;
        return this;
    }

    /**
     * Where the search {@code key} (a detector's search over {@code view}, which moves on from
     * each candidate's end) begins: the start of a whole text, or where it got to in a stream.
     */
    int searchFrom(Object key, View view) {
        return searches == null ? 0 : searches.from(key, view);
    }

    /** The search {@code key} found the candidate [s, e) of {@code view}, scored or not. */
    void searched(Object key, View view, int s, int e) {
        if (searches != null) {
            searches.found(key, view, s, e);
        }
    }

    /** What {@code compute} derives from this text, computed once for every detector asking under {@code key}. */
    @SuppressWarnings("unchecked")
    <T> T memo(Object key, java.util.function.Supplier<T> compute) {
        if (memo == null) {
            memo = new java.util.HashMap<>();
        }
        Object value = memo.get(key);
        if (value == null) {
            value = compute.get();
            memo.put(key, value);
        }
        return (T) value;
    }

    /**
     * True when the text has an ASCII digit. Non-ASCII digits are already folded to ASCII in
     * {@code clean}, and every other view only drops or lower-cases its chars, so a detector
     * whose every match needs {@code [0-9]} can skip a text without one.
     */
    boolean hasAsciiDigit() {
        return !digits(clean).isEmpty();
    }

    /** The digit runs of the clean or the compact view, found once for every detector. */
    DigitRuns digits(View view) {
        boolean isClean = view == clean;
        if (!isClean && view != compact) {
            return DigitRuns.of(view.text);
        }
        if (cleanDigits == null) {
            // both views' runs in one pass over the clean chars: whoever asks for one (phone,
            // SSN, IP the clean view's; card and IBAN both) asks for the other on the same text
            DigitRuns[] both = DigitRuns.ofCleanAndCompact(cleanChars(), clean.length(), NormalizedText::keptInCompact);
            cleanDigits = both[0];
            compactDigits = both[1];
        }
        return isClean ? cleanDigits : compactDigits;
    }

    /** Whether the compact view keeps {@code c} (what its builder copies). */
    static boolean keptInCompact(int c) {
        return c < TABLE ? KEPT_COMPACT[c] == 1 : !isWhitespace((char) c) && !isDecoration((char) c);
    }

    /** The compact view's table for ASCII: 1 for a char it keeps. */
    static byte[] compactKeptAscii() {
        return java.util.Arrays.copyOf(KEPT_COMPACT, 128);
    }

    /**
     * The ASCII char pairs of the clean or the compact view, found in one pass and shared by every
     * probe whose matches begin with one of a few literal words (the secret prefixes: ten probes
     * over these two views); {@link CharPairs#ANY} for any other view or a long text.
     */
    CharPairs pairs(View view) {
        boolean isClean = view == clean;
        if (!isClean && view != compact) {
            return CharPairs.ANY;
        }
        CharPairs pairs = isClean ? cleanPairs : compactPairs;
        if (pairs == null) {
            char[] chars = isClean ? cleanChars() : compact.chars() != null ? compact.chars() : compact.text.toCharArray();
            pairs = CharPairs.of(chars, view.length());
            if (isClean) {
                cleanPairs = pairs;
            } else {
                compactPairs = pairs;
            }
        }
        return pairs;
    }

    View view(String name) {
        return view(viewIndex(name));
    }

    /**
     * A view's number, for {@link #view(int)}: a detector that names its views looks each up once,
     * not by its name on every text (on dense personal data, a hundred bytes a text, the string
     * switch per probe and text was a few percent of the whole).
     */
    static int viewIndex(String name) {
        return switch (name) {
            case "clean" -> 0;
            case "lower" -> 1;
            case "compact" -> 2;
            case "alnum" -> 3;
            default -> throw new IllegalArgumentException("unknown view " + name);
        };
    }

    View view(int index) {
        return switch (index) {
            case 0 -> clean;
            case 1 -> lower();
            case 2 -> compact();
            case 3 -> alnum();
            default -> throw new IllegalArgumentException("unknown view number " + index);
        };
    }

    // The derived views are built without their index arrays: those are needed only to map a
    // match back (or for stream hold-back), so they are rebuilt by the same loop on first use.

    /** The clean view's chars as an array (its first {@code clean.length()}); shared, never written. */
    char[] cleanChars() {
        if (cleanChars == null) {
            cleanChars = clean.text.toCharArray();
        }
        return cleanChars;
    }

    View lower() {
        if (lower == null) {
            String t = clean.text;
            char[] out = new char[t.length()];
            int[] marks = new int[chunks(t)];
            char[] src = cleanChars();
            int k = lowerText(src, t.length(), out, marks);
            lowerMarks = marks;
            lower = View.derived("lower", new String(out, 0, k), out, clean, () -> {
                int[] index = new int[k];
                lower(t, null, index);
                return index;
            }, j -> locate(src, t.length(), marks, j, NormalizedText::lowerKeeps), true);
        }
        return lower;
    }

    /** The lower view's marks (below), kept to map clean indexes into that view. */
    private int[] lowerMarks;

    /**
     * The lower view's index of the clean char that letters-only view char {@code a} came from
     * (a letter or digit, which the lower view writes as a char of its own): the clean index from
     * the letters-only view's marks, then the lower view's mark before it and at most one chunk
     * of clean chars read again. For the few positions a pass over the letters-only view names.
     */
    int lowerIndexOfAlnum(int a) {
        int i = alnum().locateInParent(a);
        lower();
        char[] t = cleanChars();
        int k = lowerMarks[i / CHUNK];
        for (int c = i / CHUNK * CHUNK; c < i; c++) {
            k += lowerKeeps(t, c) ? 1 : 0;
        }
        return k;
    }

    /**
     * The view builders leave a mark every {@code CHUNK} clean chars: how many view chars the
     * clean chars before it became. A view char is then found from the last mark at or before it,
     * by reading at most one chunk again.
     */
    private static final int CHUNK = 64;

    private static int chunks(String t) {
        return (t.length() + CHUNK - 1) / CHUNK;
    }

    /** Whether a view keeps clean char {@code i} (what its builder adds to the output index there). */
    @FunctionalInterface
    private interface Keeps {
        boolean at(char[] t, int i);
    }

    // Read from the clean view's array, not its string: each anchor the letters-only pass finds is
    // mapped back through these (HeuristicWords.atWordStarts), which with charAt on the string was
    // 3% of the joined mixed corpus's samples.
    private static boolean lowerKeeps(char[] t, int i) {
        return !isWhitespace(t[i]) || i == 0 || !isWhitespace(t[i - 1]);
    }

    private static boolean compactKeeps(char[] t, int i) {
        char c = t[i];
        return c < 128 ? KEPT_COMPACT[c] == 1 : !isWhitespace(c) && !isDecoration(c);
    }

    private static boolean alnumKeeps(char[] t, int i) {
        char c = t[i];
        return c < 128 ? KEPT_ALNUM[c] == 1 : Character.isLetterOrDigit(c);
    }

    /** The clean index of view char {@code j}, from the builder's marks. */
    private static int locate(char[] t, int n, int[] marks, int j, Keeps keeps) {
        int lo = 0;
        int hi = marks.length - 1;
        while (lo < hi) { // the last chunk whose mark is at or before j: the one j was written in
            int mid = (lo + hi + 1) >>> 1;
            if (marks[mid] <= j) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int k = marks[lo];
        for (int i = lo * CHUNK; i < n; i++) {
            if (keeps.at(t, i)) {
                if (k == j) {
                    return i;
                }
                k++;
            }
        }
        throw new IndexOutOfBoundsException("view index " + j);
    }

    /** Lower case, whitespace runs as one space; fills {@code out} and/or {@code index} (either may be null). */
    private static int lower(String t, char[] out, int[] index) {
        int k = 0;
        boolean afterSpace = false;
        for (int i = 0, n = t.length(); i < n; i++) {
            char c = t.charAt(i);
            if (isWhitespace(c)) {
                if (afterSpace) {
                    continue; // one space stands for the run (View maps it back to the whole run)
                }
                c = ' ';
            } else if (c < 0x80) {
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                }
            } else {
                c = Character.toLowerCase(c);
            }
            afterSpace = c == ' ';
            if (out != null) {
                out[k] = c;
            }
            if (index != null) {
                index[k] = i;
            }
            k++;
        }
        return k;
    }

    View compact() {
        if (compact == null) {
            String t = clean.text;
            char[] out = new char[t.length()];
            int[] marks = new int[chunks(t)];
            char[] src = cleanChars();
            int k = compactText(src, t.length(), out, marks);
            compact = View.derived("compact", new String(out, 0, k), out, clean, () -> compactIndex(t, k),
                    j -> locate(src, t.length(), marks, j, NormalizedText::compactKeeps), false);
        }
        return compact;
    }

    View alnum() {
        if (alnum == null) {
            String t = clean.text;
            char[] out = new char[t.length()];
            int[] marks = new int[chunks(t)];
            char[] src = cleanChars();
            int k = alnumText(src, t.length(), out, marks);
            alnum = View.derived("alnum", new String(out, 0, k), out, clean, () -> {
                int[] index = new int[k];
                alnum(t, null, index);
                return index;
            }, j -> locate(src, t.length(), marks, j, NormalizedText::alnumKeeps), false);
        }
        return alnum;
    }

    private static int alnum(String t, char[] out, int[] index) {
        int k = 0;
        for (int i = 0, n = t.length(); i < n; i++) {
            char c = t.charAt(i);
            if (c < 0x80) {
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                } else if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')) {
                    continue;
                }
            } else if (Character.isLetterOrDigit(c)) {
                c = Character.toLowerCase(c);
            } else {
                continue;
            }
            if (out != null) {
                out[k] = c;
            }
            if (index != null) {
                index[k] = i;
            }
            k++;
        }
        return k;
    }

    // The view texts are built by the loops below, the same as lower(t, out, null), compact(t, out, null)
    // and alnum(t, out, null) but without a branch per ASCII char: each ASCII char is looked up in a
    // table and written, and the output index moves on by what the table says. (ViewsTest compares
    // them with the char-by-char construction.)
    /**
     * The chars below this are looked up in the tables below; the rest (CJK, surrogates, ...) take
     * the character-class calls. Prose and code carry dashes, quotes, arrows and accented letters
     * well below it, and calling Character.toLowerCase for each was a tenth of building the views.
     */
    private static final int TABLE = 0x3000;
    /** Per char below {@link #TABLE}: 1 when Character.isWhitespace. */
    private static final byte[] WHITESPACE = new byte[TABLE];
    /** Per char: what the lower view writes for it (whitespace as ' '); the alnum view writes the same for what it keeps. */
    private static final char[] LOWER = new char[TABLE];
    /** Per char: 1 when the compact view keeps it. */
    private static final byte[] KEPT_COMPACT = new byte[TABLE];
    /** Per char: 1 when the alnum view keeps it (a letter or a digit). */
    private static final byte[] KEPT_ALNUM = new byte[TABLE];
    /** Per char: what the alnum view writes for it, or 0 when it drops it. */
    private static final char[] ALNUM = new char[TABLE];
    /** Per char: {@link #alnumClass}. */
    private static final byte[] ALNUM_CLASS = new byte[TABLE];

    static {
        for (char c = 0; c < TABLE; c++) {
            boolean ws = Character.isWhitespace(c);
            WHITESPACE[c] = (byte) (ws ? 1 : 0);
            if (c < 128) {
                LOWER[c] = ws ? ' ' : c >= 'A' && c <= 'Z' ? (char) (c + 'a' - 'A') : c;
                KEPT_ALNUM[c] = (byte) (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ? 1 : 0);
            } else {
                LOWER[c] = ws ? ' ' : Character.toLowerCase(c);
                KEPT_ALNUM[c] = (byte) (Character.isLetterOrDigit(c) ? 1 : 0);
            }
            KEPT_COMPACT[c] = (byte) (ws || isDecoration(c) ? 0 : 1);
            ALNUM[c] = KEPT_ALNUM[c] == 1 ? LOWER[c] : 0;
            ALNUM_CLASS[c] = (byte) classOf(ALNUM[c]);
        }
    }

    /** Bit 5 of {@link #alnumClass}: the alnum view keeps the char. */
    static final int ALNUM_KEPT = 1 << 5;

    /**
     * What the alnum view makes of clean char {@code c}, for a pass that reads the view's letters
     * from the clean view's array: {@link #ALNUM_KEPT} when it keeps the char, or'ed with the
     * letter it writes as 1 ('a') to 26 ('z'), 0 for a digit or a letter outside ASCII.
     */
    static int alnumClass(char c) {
        return c < TABLE ? ALNUM_CLASS[c] : classOf(alnumChar(c));
    }

    private static int classOf(char kept) {
        return kept == 0 ? 0 : ALNUM_KEPT | (kept >= 'a' && kept <= 'z' ? kept - 'a' + 1 : 0);
    }

    /**
     * The char the alnum (letters-only) view writes for clean char {@code c}, or 0 when it drops
     * it: the view's chars in order, for a pass that reads them from the clean view's array without
     * building the view (the same tables as {@link #alnumText}).
     */
    static char alnumChar(char c) {
        if (c < TABLE) {
            return ALNUM[c];
        }
        return Character.isLetterOrDigit(c) ? Character.toLowerCase(c) : 0;
    }

    /** The char the lower view writes for clean char {@code c} (whitespace as ' ', before runs collapse). */
    static char lowerChar(char c) {
        if (c < TABLE) {
            return LOWER[c];
        }
        return Character.isWhitespace(c) ? ' ' : Character.toLowerCase(c);
    }

    private static int lowerText(char[] t, int n, char[] out, int[] marks) {
        int k = 0;
        int afterSpace = 0;
        for (int i = 0; i < n; i++) {
            char c = t[i];
            if ((i & (CHUNK - 1)) == 0) {
                marks[i / CHUNK] = k; // one loop with a mark every CHUNK chars: a loop per chunk ran slower
            }
            if (c < TABLE) {
                int ws = WHITESPACE[c];
                out[k] = LOWER[c];
                k += 1 - (ws & afterSpace);
                afterSpace = ws;
            } else if (Character.isWhitespace(c)) {
                out[k] = ' ';
                k += 1 - afterSpace;
                afterSpace = 1;
            } else {
                out[k++] = Character.toLowerCase(c);
                afterSpace = 0;
            }
        }
        return k;
    }

    private static int compactText(char[] t, int n, char[] out, int[] marks) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            char c = t[i];
            if ((i & (CHUNK - 1)) == 0) {
                marks[i / CHUNK] = k;
            }
            if (c < TABLE) {
                out[k] = c;
                k += KEPT_COMPACT[c];
            } else if (!isWhitespace(c) && !isDecoration(c)) {
                out[k++] = c;
            }
        }
        return k;
    }

    /** The clean index of each compact char: what compact(t, null, index) fills, the same way as compactText. */
    private static int[] compactIndex(String t, int length) {
        int[] index = new int[length + 1]; // one spare slot: a dropped char is written, then overwritten
        int k = 0;
        for (int i = 0, n = t.length(); i < n; i++) {
            char c = t.charAt(i);
            index[k] = i;
            k += c < 128 ? KEPT_COMPACT[c] : !isWhitespace(c) && !isDecoration(c) ? 1 : 0;
        }
        return index;
    }

    private static int alnumText(char[] t, int n, char[] out, int[] marks) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            char c = t[i];
            if ((i & (CHUNK - 1)) == 0) {
                marks[i / CHUNK] = k;
            }
            if (c < TABLE) {
                out[k] = LOWER[c];
                k += KEPT_ALNUM[c];
            } else if (Character.isLetterOrDigit(c)) {
                out[k++] = Character.toLowerCase(c);
            }
        }
        return k;
    }

    /** {@link Character#isWhitespace}, with the ASCII answer from a table. */
    private static boolean isWhitespace(char c) {
        if (c < 0x80) {
            return c <= ' ' && ASCII_WHITESPACE[c];
        }
        return Character.isWhitespace(c);
    }

    private static final boolean[] ASCII_WHITESPACE = new boolean[33];

    static {
        for (char c = 0; c <= ' '; c++) {
            ASCII_WHITESPACE[c] = Character.isWhitespace(c);
        }
    }

    /** Punctuation that carries no meaning inside a token and is used to break one up. */
    private static boolean isDecoration(char c) {
        return c == '*' || c == '|' || c == '`' || c == '~' || c == '\u00B7' || c == '\u2022' || c == '\'' || c == '"';
    }

    static boolean isInvisible(int cp) {
        int type = Character.getType(cp);
        if (type == Character.FORMAT) {
            // Zero-width (200B-200D, 2060, FEFF), bidi controls (200E/F, 202A-202E, 2066-2069),
            // soft hyphen, Unicode tags (E0000-E007F) and the other format characters.
            return true;
        }
        return (cp >= 0xFE00 && cp <= 0xFE0F) // variation selectors
                || (cp >= 0xE0100 && cp <= 0xE01EF)
                || cp == 0x034F // combining grapheme joiner
                || cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 // Hangul fillers
                || cp == 0x180E || cp == 0x2800; // Mongolian vowel separator, braille blank
    }

    /** The folded form of one non-ASCII code point; cached because the mapping never changes. */
    static String fold(int cp) {
        if (cp < FOLDED_BMP.length) {
            String f = FOLDED_BMP[cp];
            if (f == null) {
                f = computeFold(cp);
                FOLDED_BMP[cp] = f; // racing writers store equal strings
            }
            return f;
        }
        return FOLDED.computeIfAbsent(cp, NormalizedText::computeFold);
    }

    /** The folds of the code points below U+3000 (Latin, Greek, Cyrillic, punctuation, ...) without boxing. */
    private static final String[] FOLDED_BMP = new String[0x3000];

    private static String computeFold(int cp) {
        String decomposed = NFD.normalize(NFKC.normalize(new String(Character.toChars(cp))));
        var out = new StringBuilder(decomposed.length());
        decomposed.codePoints().forEach(c -> {
            int type = Character.getType(c);
            if (c < 0x80) {
                out.append((char) c);
            } else if (type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || isInvisible(c)) {
                // diacritics and stray marks carry no meaning for matching
            } else if (Character.isDigit(c)) {
                out.append((char) ('0' + Character.digit(c, 10)));
            } else if (Character.isSpaceChar(c) || Character.isWhitespace(c)) {
                out.append(' ');
            } else {
                out.append(asciiLookalike(c));
            }
        });
        return out.toString();
    }

    private static String asciiLookalike(int c) {
        String skeleton = SPOOF.getSkeleton(new String(Character.toChars(c)));
        for (int i = 0; i < skeleton.length(); i++) {
            char s = skeleton.charAt(i);
            if (s >= 0x80 || s < 0x20) {
                return new String(Character.toChars(c));
            }
        }
        // The skeleton's prototype for I-like letters is "l"; an upper-case lookalike stands for "I".
        if (skeleton.equals("l") && Character.isUpperCase(c)) {
            return "I";
        }
        return skeleton;
    }
}
