package io.cleargate.moderation;

/**
 * Which pairs of adjacent ASCII chars a text holds, found in one pass: a word of ASCII chars can
 * occur in the text only where every pair of adjacent chars in it does, so a probe whose matches
 * begin with one of a few literal words (the secret prefixes "AKIA", "ghp_", "eyJ", ...) is passed
 * over on a text that lacks a pair of each of its words. A short text (one request, a dense
 * personal-data record of a hundred chars) holds none of them, and each such probe's own
 * searches for its anchor chars, with a cursor and a sink per probe, were a tenth of what the
 * text cost. The set is hashed: two pairs may share a hash, which only lets a probe through that
 * could have been passed over; and only the hashes of the built-in prefixes' pairs are kept, any
 * other being answered as maybe present. A long text holds most pairs, so none is kept for it
 * ({@link #ANY}).
 */
final class CharPairs {

    /**
     * Texts longer than this are not read for pairs. The pass costs about a nanosecond per char and
     * view, while what it saves is mostly each literal probe's fixed cost (a cursor, a sink, a
     * search set up) plus vectorised searches of a fraction of that per char: a short request or
     * record gains, a longer text loses (a whole 1.4 KB answer's output moderation took 11.7 µs
     * instead of 8.4 with the limit at 2,048 chars, speed.md 3p).
     */
    static final int MAX_LENGTH = 512;

    /** Every pair present: for a long text, or a view nobody reads for pairs. */
    static final CharPairs ANY = new CharPairs(true, 0, 0);

    /**
     * Per pair hash ({@link #hash}, below 4,096 for ASCII chars): its slot, 1 to 127, among the
     * pairs kept track of (those of {@link BuiltinDetectors#LITERAL_PREFIXES}, 107 of them), or 0
     * for a pair not kept track of, which {@link #has} answers as maybe present. Kept as two longs,
     * so that the pass sets a bit in a register per char: with a bit per hash in a 4,096-bit array
     * each char read, changed and wrote a word of memory, the next char often the same word, and
     * the pass was 6% of dense personal data per record (speed.md 3r).
     */
    private static final byte[] SLOT = slots(BuiltinDetectors.LITERAL_PREFIXES);

    private final boolean any;
    /** The slots 0-63 and 64-127 of the pairs present (slot 0 stands for every pair not kept track of). */
    private final long low;
    private final long high;

    private CharPairs(boolean any, long low, long high) {
        this.any = any;
        this.low = low;
        this.high = high;
    }

    private static byte[] slots(java.util.List<String> words) {
        byte[] slot = new byte[4096];
        int next = 1;
        for (String w : words) {
            for (int h : hashes(w)) {
                if (h < slot.length && slot[h] == 0 && next < 128) {
                    slot[h] = (byte) next++;
                }
            }
        }
        return slot;
    }

    /** The pairs of the first {@code n} chars of {@code t}. */
    static CharPairs of(char[] t, int n) {
        if (n > MAX_LENGTH) {
            return ANY;
        }
        byte[] slot = SLOT;
        long low = 0;
        long high = 0;
        int a = n > 0 ? t[0] : 0;
        for (int i = 1; i < n; i++) {
            int b = t[i];
            // Without a branch: a pair with a char outside ASCII (no word holds one) is hash 0,
            // the pair of two NULs, which no word holds either and no slot stands for.
            int s = slot[(a * 31 + b) & ((a | b) - 128 >> 31)];
            long bit = 1L << s; // the shift takes s's low six bits
            long upper = -(s >>> 6); // all ones for slots 64-127
            low |= bit & ~upper;
            high |= bit & upper;
            a = b;
        }
        return new CharPairs(false, low, high);
    }

    static int hash(char a, char b) {
        return a * 31 + b;
    }

    /** The hashes of the pairs of adjacent chars in {@code word} (ASCII), for {@link #mayHold}. */
    static int[] hashes(String word) {
        return java.util.stream.IntStream.range(1, word.length())
                .map(i -> hash(word.charAt(i - 1), word.charAt(i))).distinct().toArray();
    }

    /** Whether the pair with this hash may be present (false only when it is not). */
    boolean has(int hash) {
        int s = hash >= 0 && hash < SLOT.length ? SLOT[hash] : 0;
        return any || s == 0 || ((s < 64 ? low : high) >>> s & 1) != 0;
    }

    /** Whether the pair with this hash has a slot: {@link #has} is then exact for it; for tests. */
    static boolean tracked(int hash) {
        return SLOT[hash] != 0;
    }

    /** False only when a pair of the word the hashes came from is missing: then the word does not occur. */
    boolean mayHold(int[] hashes) {
        if (any) {
            return true;
        }
        for (int h : hashes) {
            if (!has(h)) {
                return false;
            }
        }
        return true;
    }
}
