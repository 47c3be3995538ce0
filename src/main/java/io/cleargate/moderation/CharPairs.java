package io.cleargate.moderation;

/**
 * Which pairs of adjacent ASCII chars a text holds, found in one pass: a word of ASCII chars can
 * occur in the text only where every pair of adjacent chars in it does, so a probe whose matches
 * begin with one of a few literal words (the secret prefixes "AKIA", "ghp_", "eyJ", ...) is passed
 * over on a text that lacks a pair of each of its words. A short text (one request, a dense
 * personal-data record of a hundred chars) holds none of them, and each such probe's own
 * searches for its anchor chars, with a cursor and a sink per probe, were a tenth of what the
 * text cost. The set is hashed: two pairs may share a bit, which only lets a probe through that
 * could have been passed over. A long text holds most pairs, so none is kept for it ({@link #ANY}).
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
    static final CharPairs ANY = new CharPairs(null);

    /** Bit {@link #hash} of each pair; 4,096 bits, which {@code a * 31 + b} fills without a mask for ASCII a and b. */
    private final long[] bits;

    private CharPairs(long[] bits) {
        this.bits = bits;
    }

    /** The pairs of the first {@code n} chars of {@code t}. */
    static CharPairs of(char[] t, int n) {
        if (n > MAX_LENGTH) {
            return ANY;
        }
        long[] bits = new long[64];
        int a = n > 0 ? t[0] : 0;
        for (int i = 1; i < n; i++) {
            int b = t[i];
            // Without a branch: a pair with a char outside ASCII (no word holds one) sets bit 0,
            // the pair of two NULs, which no word holds either.
            int h = (a * 31 + b) & ((a | b) - 128 >> 31);
            bits[h >>> 6] |= 1L << h; // the shift takes h's low six bits
            a = b;
        }
        return new CharPairs(bits);
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
        return bits == null || (bits[hash >>> 6] & 1L << hash) != 0;
    }

    /** False only when a pair of the word the hashes came from is missing: then the word does not occur. */
    boolean mayHold(int[] hashes) {
        if (bits == null) {
            return true;
        }
        for (int h : hashes) {
            if ((bits[h >>> 6] & 1L << h) == 0) {
                return false;
            }
        }
        return true;
    }
}
