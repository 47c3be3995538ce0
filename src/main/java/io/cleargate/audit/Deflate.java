package io.cleargate.audit;

import java.util.Arrays;

/**
 * A raw DEFLATE encoder (RFC 1951) for the audit trail's small texts: a record's body (about 1.5 KB
 * of JSON, with {@link StoredBody}'s preset dictionary) and a request's content. Its output is
 * ordinary DEFLATE, read by the JDK's {@link java.util.zip.Inflater} like zlib's, so the stored
 * format does not change and rows written by zlib read as before.
 *
 * <p>Why not zlib: every request deflates two bodies and its answer on the request thread, and zlib
 * paid for each one a reset of its 256 KB of state (clearing a 64 KB hash table), hashing the
 * whole 1.5 KB dictionary again and a lazy search at level 6; in the full arm's profile at
 * concurrency 64 that was 13% of the gateway's sampled CPU, some 70 µs a request. Here the
 * dictionary is indexed once for the process, a call copies that index and hashes only its own
 * input, and the state is sized to the input. The price is a few percent of size: greedy matching
 * of at least four bytes, one block with its own Huffman codes (or the fixed ones, or stored,
 * whichever is shortest).
 *
 * <p>Inputs over {@link #MAX_INPUT} bytes are left to zlib ({@link StoredBody#deflate}).
 */
final class Deflate {

    /** Largest input encoded here: one block, every distance within DEFLATE's 32 KB window. */
    static final int MAX_INPUT = 1 << 15;

    private static final int WINDOW = 1 << 15;
    private static final int MIN_MATCH = 4;
    private static final int MAX_MATCH = 258;
    /** A match this long is taken without looking further along the chain. */
    private static final int NICE_MATCH = 64;
    private static final int MAX_CHAIN = 24;
    private static final int HASH_BITS = 12;
    /** Frequencies up to this are bucket-sorted when the Huffman tree is built (a body's are well under it). */
    private static final int COUNTED_FREQUENCIES = 1024;

    private static final int END_OF_BLOCK = 256;
    private static final int LITLEN_SYMBOLS = 286;
    private static final int DIST_SYMBOLS = 30;
    private static final int[] LENGTH_BASE = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
            67, 83, 99, 115, 131, 163, 195, 227, 258};
    private static final int[] LENGTH_EXTRA = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5,
            5, 5, 5, 0};
    private static final int[] DIST_BASE = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
            1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    private static final int[] DIST_EXTRA = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11,
            11, 12, 12, 13, 13};
    /** The order in which a dynamic block sends the code lengths of its code-length alphabet. */
    private static final int[] CODE_LENGTH_ORDER = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    /** Length 3..258 → its symbol's index in LENGTH_BASE. */
    private static final byte[] LENGTH_INDEX = new byte[MAX_MATCH + 1];
    private static final byte[] FIXED_LITLEN = new byte[288];
    private static final byte[] FIXED_DIST = new byte[DIST_SYMBOLS];
    /** The fixed block's codes, made once: they depend on nothing a call has. */
    private static final int[] FIXED_LITLEN_CODES = new int[288];
    private static final int[] FIXED_DIST_CODES = new int[DIST_SYMBOLS];

    static {
        for (int i = 0; i < LENGTH_BASE.length; i++) {
            int last = i + 1 < LENGTH_BASE.length ? LENGTH_BASE[i + 1] - 1 : MAX_MATCH;
            for (int len = LENGTH_BASE[i]; len <= last && len <= MAX_MATCH; len++) {
                LENGTH_INDEX[len] = (byte) i;
            }
        }
        LENGTH_INDEX[MAX_MATCH] = (byte) (LENGTH_BASE.length - 1);
        Arrays.fill(FIXED_LITLEN, 0, 144, (byte) 8);
        Arrays.fill(FIXED_LITLEN, 144, 256, (byte) 9);
        Arrays.fill(FIXED_LITLEN, 256, 280, (byte) 7);
        Arrays.fill(FIXED_LITLEN, 280, 288, (byte) 8);
        Arrays.fill(FIXED_DIST, (byte) 5);
        int[] scratch = new int[32];
        codes(FIXED_LITLEN, 288, FIXED_LITLEN_CODES, scratch);
        codes(FIXED_DIST, DIST_SYMBOLS, FIXED_DIST_CODES, scratch);
    }

    /** A preset dictionary with its match index, built once and only read afterwards. */
    static final class Dictionary {
        final byte[] bytes;
        final int[] head;
        final int[] prev;

        Dictionary(byte[] bytes) {
            if (bytes.length > WINDOW) {
                throw new IllegalArgumentException("a preset dictionary holds at most 32 KB");
            }
            this.bytes = bytes.clone();
            this.head = new int[1 << HASH_BITS];
            this.prev = new int[bytes.length];
            Arrays.fill(head, -1);
            for (int i = 0; i + MIN_MATCH <= bytes.length; i++) {
                int h = hash(this.bytes, i);
                prev[i] = head[h];
                head[h] = i;
            }
        }
    }

    private static final Dictionary NONE = new Dictionary(new byte[0]);

    // Per-call state, kept by a pooled encoder and grown to the largest input it has seen.
    private final int[] head = new int[1 << HASH_BITS];
    private int[] prev = new int[0];
    private byte[] buf = new byte[0];
    /** Tokens: a literal byte (0..255), or a match as length << 16 | distance. */
    private int[] tokens = new int[0];
    private final int[] litlenFreq = new int[LITLEN_SYMBOLS];
    private final int[] distFreq = new int[DIST_SYMBOLS];
    private final byte[] litlenLengths = new byte[LITLEN_SYMBOLS];
    private final byte[] distLengths = new byte[DIST_SYMBOLS];
    private final int[] litlenCodes = new int[288];
    private final int[] distCodes = new int[DIST_SYMBOLS];
    private final int[] codeScratch = new int[32];
    private final Huffman huffman = new Huffman();
    private final Bits out = new Bits();

    /** Raw DEFLATE of {@code data} (at most {@link #MAX_INPUT} bytes) with {@code dictionary} preset, or none when null. */
    byte[] deflate(byte[] data, Dictionary dictionary) {
        if (data.length > MAX_INPUT) {
            throw new IllegalArgumentException("input over " + MAX_INPUT + " bytes");
        }
        Dictionary dict = dictionary == null ? NONE : dictionary;
        int tokenCount = match(data, dict);
        return encode(tokenCount, data);
    }

    /** Greedy LZ77 over the dictionary followed by the data; fills {@link #tokens} and the frequencies. */
    private int match(byte[] data, Dictionary dict) {
        int start = dict.bytes.length;
        int n = start + data.length;
        if (buf.length < n) {
            buf = new byte[n];
            prev = new int[n];
        }
        if (tokens.length < data.length) {
            tokens = new int[data.length];
        }
        System.arraycopy(dict.bytes, 0, buf, 0, start);
        System.arraycopy(data, 0, buf, start, data.length);
        System.arraycopy(dict.head, 0, head, 0, head.length);
        System.arraycopy(dict.prev, 0, prev, 0, start);
        Arrays.fill(litlenFreq, 0);
        Arrays.fill(distFreq, 0);
        byte[] b = buf;
        int count = 0;
        int i = start;
        while (i < n) {
            int bestLength = 0;
            int bestDistance = 0;
            if (i + MIN_MATCH <= n) {
                int h = hash(b, i);
                int candidate = head[h];
                prev[i] = candidate;
                head[h] = i;
                int limit = Math.min(MAX_MATCH, n - i);
                int word = word(b, i);
                for (int chain = MAX_CHAIN; candidate >= 0 && i - candidate <= WINDOW && chain > 0; chain--) {
                    if (word(b, candidate) == word && b[candidate + bestLength] == b[i + bestLength]) {
                        int length = matchLength(b, candidate, i, limit);
                        if (length > bestLength) {
                            bestLength = length;
                            bestDistance = i - candidate;
                            if (length >= NICE_MATCH || length == limit) {
                                break;
                            }
                        }
                    }
                    candidate = prev[candidate];
                }
            }
            if (bestLength >= MIN_MATCH) {
                tokens[count++] = bestLength << 16 | bestDistance;
                litlenFreq[257 + LENGTH_INDEX[bestLength]]++;
                distFreq[distanceIndex(bestDistance)]++;
                int end = i + bestLength;
                // Index the positions inside the match too, so later text can refer to them.
                for (int j = i + 1; j < end && j + MIN_MATCH <= n; j++) {
                    int h = hash(b, j);
                    prev[j] = head[h];
                    head[h] = j;
                }
                i = end;
            } else {
                int literal = b[i] & 0xff;
                tokens[count++] = literal;
                litlenFreq[literal]++;
                i++;
            }
        }
        litlenFreq[END_OF_BLOCK]++;
        return count;
    }

    /** One final block: dynamic, fixed or stored codes, whichever is shortest. */
    private byte[] encode(int tokenCount, byte[] data) {
        // Each tree needs two used symbols for a complete code every inflater accepts.
        atLeastTwoUsed(litlenFreq);
        atLeastTwoUsed(distFreq);
        huffman.lengths(litlenFreq, LITLEN_SYMBOLS, 15, litlenLengths);
        huffman.lengths(distFreq, DIST_SYMBOLS, 15, distLengths);
        long extraBits = extraBits();
        long dynamicBits = huffman.header(litlenLengths, distLengths) + cost(litlenFreq, litlenLengths)
                + cost(distFreq, distLengths) + extraBits;
        long fixedBits = 3 + cost(litlenFreq, FIXED_LITLEN) + cost(distFreq, FIXED_DIST) + extraBits;
        long storedBits = 3 + 7 + 32 + 8L * data.length;
        out.reset(data.length / 2 + 64);
        if (storedBits < dynamicBits && storedBits < fixedBits) {
            out.write(1, 3); // final, stored
            out.alignToByte();
            out.write(data.length, 16);
            out.write(~data.length & 0xffff, 16);
            out.bytes(data);
        } else if (fixedBits <= dynamicBits) {
            out.write(1 | 1 << 1, 3); // final, fixed codes
            tokens(tokenCount, FIXED_LITLEN_CODES, FIXED_LITLEN, FIXED_DIST_CODES, FIXED_DIST);
        } else {
            out.write(1 | 2 << 1, 3); // final, dynamic codes
            huffman.writeHeader(out);
            codes(litlenLengths, LITLEN_SYMBOLS, litlenCodes, codeScratch);
            codes(distLengths, DIST_SYMBOLS, distCodes, codeScratch);
            tokens(tokenCount, litlenCodes, litlenLengths, distCodes, distLengths);
        }
        return out.finish();
    }

    private void tokens(int tokenCount, int[] litlenCodes, byte[] litlenLength, int[] distCodes, byte[] distLength) {
        int[] t = tokens;
        Bits bits = out;
        for (int k = 0; k < tokenCount; k++) {
            int token = t[k];
            if (token < 256) {
                bits.write(litlenCodes[token], litlenLength[token]);
            } else {
                // A match in two writes, each code with its extra bits above it (the order DEFLATE
                // sends them in): at most 15 + 5 and 15 + 13 bits.
                int length = token >>> 16;
                int distance = token & 0xffff;
                int li = LENGTH_INDEX[length];
                int symbol = 257 + li;
                bits.write(litlenCodes[symbol] | (length - LENGTH_BASE[li]) << litlenLength[symbol],
                        litlenLength[symbol] + LENGTH_EXTRA[li]);
                int di = distanceIndex(distance);
                bits.write(distCodes[di] | (distance - DIST_BASE[di]) << distLength[di], distLength[di] + DIST_EXTRA[di]);
            }
        }
        bits.write(litlenCodes[END_OF_BLOCK], litlenLength[END_OF_BLOCK]);
    }

    private long extraBits() {
        long bits = 0;
        for (int i = 0; i < LENGTH_EXTRA.length; i++) {
            bits += (long) litlenFreq[257 + i] * LENGTH_EXTRA[i];
        }
        for (int i = 0; i < DIST_SYMBOLS; i++) {
            bits += (long) distFreq[i] * DIST_EXTRA[i];
        }
        return bits;
    }

    private static long cost(int[] freq, byte[] lengths) {
        long bits = 0;
        for (int i = 0; i < freq.length; i++) {
            bits += (long) freq[i] * lengths[i];
        }
        return bits;
    }

    private static void atLeastTwoUsed(int[] freq) {
        int used = 0;
        for (int f : freq) {
            if (f > 0 && ++used == 2) {
                return;
            }
        }
        for (int i = 0; used < 2; i++) {
            if (freq[i] == 0) {
                freq[i] = 1;
                used++;
            }
        }
    }

    /**
     * Canonical codes (RFC 1951, 3.2.2) for the lengths, bit-reversed for LSB-first output;
     * {@code scratch} (32 ints) holds the count and the next code of each length.
     */
    static void codes(byte[] lengths, int n, int[] codes, int[] scratch) {
        Arrays.fill(scratch, 0);
        for (int i = 0; i < n; i++) {
            scratch[lengths[i]]++;
        }
        scratch[0] = 0;
        int code = 0;
        for (int bits = 1; bits < 16; bits++) {
            code = (code + scratch[bits - 1]) << 1;
            scratch[16 + bits] = code;
        }
        for (int i = 0; i < n; i++) {
            int len = lengths[i];
            if (len != 0) {
                codes[i] = Integer.reverse(scratch[16 + len]++) >>> (32 - len);
            }
        }
    }

    private static final java.lang.invoke.VarHandle INT =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle LONG =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** The four bytes at {@code i} (at least four must be left). */
    private static int word(byte[] b, int i) {
        return (int) INT.get(b, i);
    }

    static int hash(byte[] b, int i) {
        return (word(b, i) * 0x9E3779B1) >>> (32 - HASH_BITS);
    }

    /** How many bytes from {@code from} repeat at {@code at} (from < at), up to {@code limit}: eight at a time. */
    private static int matchLength(byte[] b, int from, int at, int limit) {
        int length = 0;
        while (length + 8 <= limit) {
            long diff = (long) LONG.get(b, from + length) ^ (long) LONG.get(b, at + length);
            if (diff != 0) {
                return length + (Long.numberOfTrailingZeros(diff) >>> 3);
            }
            length += 8;
        }
        while (length < limit && b[from + length] == b[at + length]) {
            length++;
        }
        return length;
    }

    /** Distance 1..32768 → its symbol (0..29). */
    static int distanceIndex(int distance) {
        int d = distance - 1;
        if (d < 4) {
            return d;
        }
        int high = 31 - Integer.numberOfLeadingZeros(d);
        return 2 * high + ((d >>> (high - 1)) & 1);
    }

    /** Length-limited Huffman code lengths, and a dynamic block's header for two of them. */
    static final class Huffman {
        private final int[] weight = new int[2 * LITLEN_SYMBOLS];
        private final int[] parent = new int[2 * LITLEN_SYMBOLS];
        private final int[] depth = new int[2 * LITLEN_SYMBOLS];
        private final long[] order = new long[LITLEN_SYMBOLS];
        private final int[] byFrequency = new int[COUNTED_FREQUENCIES + 1];
        private final int[] scaled = new int[LITLEN_SYMBOLS];
        // The header: code lengths of both trees run-length coded (symbols 0..18 with extra bits).
        private final int[] headerSymbols = new int[LITLEN_SYMBOLS + DIST_SYMBOLS];
        private final int[] headerExtra = new int[LITLEN_SYMBOLS + DIST_SYMBOLS];
        private int headerCount;
        private final int[] clFreq = new int[19];
        private final byte[] clLengths = new byte[19];
        private final int[] clCodes = new int[19];
        private final int[] codeScratch = new int[32];
        private final byte[] all = new byte[LITLEN_SYMBOLS + DIST_SYMBOLS];
        private int hlit;
        private int hdist;
        private int hclen;

        /**
         * Code lengths of at most {@code maxBits} for the first {@code n} frequencies (at least two
         * non-zero). A Huffman tree; while it is too deep, the frequencies are halved (keeping every
         * used symbol) and the tree built again, which ends at worst with a balanced tree.
         */
        void lengths(int[] freq, int n, int maxBits, byte[] lengths) {
            System.arraycopy(freq, 0, scaled, 0, n);
            while (!build(scaled, n, maxBits, lengths)) {
                for (int i = 0; i < n; i++) {
                    if (scaled[i] != 0) {
                        scaled[i] = (scaled[i] >>> 1) | 1;
                    }
                }
            }
        }

        private boolean build(int[] freq, int n, int maxBits, byte[] lengths) {
            int leaves = sortLeaves(freq, n);
            // Two queues: the leaves by weight, then the internal nodes in the order they are made
            // (their weights never decrease). Nodes 0..leaves-1 are the sorted leaves.
            for (int k = 0; k < leaves; k++) {
                weight[k] = (int) (order[k] >>> 32);
            }
            int nextLeaf = 0;
            int nextInternal = leaves;
            int made = leaves;
            while (made < 2 * leaves - 1) {
                int a = (nextLeaf < leaves && (nextInternal >= made || weight[nextLeaf] <= weight[nextInternal]))
                        ? nextLeaf++ : nextInternal++;
                int b = (nextLeaf < leaves && (nextInternal >= made || weight[nextLeaf] <= weight[nextInternal]))
                        ? nextLeaf++ : nextInternal++;
                weight[made] = weight[a] + weight[b];
                parent[a] = made;
                parent[b] = made;
                made++;
            }
            int root = made - 1;
            depth[root] = 0;
            for (int k = root - 1; k >= 0; k--) {
                depth[k] = depth[parent[k]] + 1;
            }
            Arrays.fill(lengths, 0, n, (byte) 0);
            for (int k = 0; k < leaves; k++) {
                if (depth[k] > maxBits) {
                    return false;
                }
                lengths[(int) order[k]] = (byte) depth[k];
            }
            return true;
        }

        /**
         * Puts the used symbols in {@link #order} as {@code frequency << 32 | symbol}, ascending, and
         * returns how many. A body's frequencies are small, so they are counted into buckets (the
         * symbols enter in ascending order and each bucket keeps it: the order a sort of those longs
         * gives); a larger frequency sorts them instead.
         */
        int sortLeaves(int[] freq, int n) {
            int leaves = 0;
            int max = 0;
            for (int i = 0; i < n; i++) {
                if (freq[i] != 0) {
                    max = Math.max(max, freq[i]);
                    leaves++;
                }
            }
            if (max > COUNTED_FREQUENCIES) {
                int k = 0;
                for (int i = 0; i < n; i++) {
                    if (freq[i] != 0) {
                        order[k++] = (long) freq[i] << 32 | i;
                    }
                }
                Arrays.sort(order, 0, leaves);
                return leaves;
            }
            int[] start = byFrequency;
            Arrays.fill(start, 0, max + 1, 0);
            for (int i = 0; i < n; i++) {
                if (freq[i] != 0) {
                    start[freq[i] - 1]++;
                }
            }
            int at = 0;
            for (int f = 0; f < max; f++) {
                int count = start[f];
                start[f] = at;
                at += count;
            }
            for (int i = 0; i < n; i++) {
                if (freq[i] != 0) {
                    order[start[freq[i] - 1]++] = (long) freq[i] << 32 | i;
                }
            }
            return leaves;
        }

        /** The leaves {@link #sortLeaves} ordered (for tests). */
        long[] order() {
            return order;
        }

        /** Bits of a dynamic block's header for these two trees; remembers it for {@link #writeHeader}. */
        long header(byte[] litlenLengths, byte[] distLengths) {
            hlit = LITLEN_SYMBOLS;
            while (hlit > 257 && litlenLengths[hlit - 1] == 0) {
                hlit--;
            }
            hdist = DIST_SYMBOLS;
            while (hdist > 1 && distLengths[hdist - 1] == 0) {
                hdist--;
            }
            System.arraycopy(litlenLengths, 0, all, 0, hlit);
            System.arraycopy(distLengths, 0, all, hlit, hdist);
            runLengths(hlit + hdist);
            Arrays.fill(clFreq, 0);
            for (int k = 0; k < headerCount; k++) {
                clFreq[headerSymbols[k]]++;
            }
            atLeastTwoUsed(clFreq);
            lengths(clFreq, 19, 7, clLengths);
            hclen = 19;
            while (hclen > 4 && clLengths[CODE_LENGTH_ORDER[hclen - 1]] == 0) {
                hclen--;
            }
            long bits = 5 + 5 + 4 + 3L * hclen;
            for (int k = 0; k < headerCount; k++) {
                int s = headerSymbols[k];
                bits += clLengths[s] + (s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0);
            }
            return bits;
        }

        /** The code lengths as symbols 0..15, 16 (repeat the last 3-6 times), 17 and 18 (3-10, 11-138 zeros). */
        private void runLengths(int n) {
            headerCount = 0;
            int i = 0;
            while (i < n) {
                int len = all[i];
                int run = 1;
                while (i + run < n && all[i + run] == len) {
                    run++;
                }
                i += run;
                if (len == 0) {
                    while (run >= 11) {
                        int r = Math.min(run, 138);
                        add(18, r - 11);
                        run -= r;
                    }
                    if (run >= 3) {
                        add(17, run - 3);
                        run = 0;
                    }
                } else {
                    add(len, 0);
                    run--;
                    while (run >= 3) {
                        int r = Math.min(run, 6);
                        add(16, r - 3);
                        run -= r;
                    }
                }
                while (run-- > 0) {
                    add(len, 0);
                }
            }
        }

        private void add(int symbol, int extra) {
            headerSymbols[headerCount] = symbol;
            headerExtra[headerCount] = extra;
            headerCount++;
        }

        void writeHeader(Bits out) {
            out.write(hlit - 257, 5);
            out.write(hdist - 1, 5);
            out.write(hclen - 4, 4);
            for (int k = 0; k < hclen; k++) {
                out.write(clLengths[CODE_LENGTH_ORDER[k]], 3);
            }
            codes(clLengths, 19, clCodes, codeScratch);
            for (int k = 0; k < headerCount; k++) {
                int s = headerSymbols[k];
                out.write(clCodes[s], clLengths[s]);
                if (s >= 16) {
                    out.write(headerExtra[k], s == 16 ? 2 : s == 17 ? 3 : 7);
                }
            }
        }
    }

    /** Bits written least significant first, as DEFLATE packs them. */
    static final class Bits {
        private byte[] bytes = new byte[256];
        private int size;
        private long pending;
        private int pendingBits;

        void reset(int expected) {
            if (bytes.length < expected) {
                bytes = new byte[expected];
            }
            size = 0;
            pending = 0;
            pendingBits = 0;
        }

        void write(int value, int bits) {
            pending |= (long) value << pendingBits;
            pendingBits += bits;
            if (pendingBits >= 32) {
                room(4);
                INT.set(bytes, size, (int) pending); // four bytes, least significant first
                size += 4;
                pending >>>= 32;
                pendingBits -= 32;
            }
        }

        void alignToByte() {
            flushWholeBytes();
            if (pendingBits > 0) {
                room(1);
                bytes[size++] = (byte) pending;
                pending = 0;
                pendingBits = 0;
            }
        }

        void bytes(byte[] data) {
            room(data.length);
            System.arraycopy(data, 0, bytes, size, data.length);
            size += data.length;
        }

        byte[] finish() {
            alignToByte();
            return Arrays.copyOf(bytes, size);
        }

        private void flushWholeBytes() {
            while (pendingBits >= 8) {
                room(1);
                bytes[size++] = (byte) pending;
                pending >>>= 8;
                pendingBits -= 8;
            }
        }

        private void room(int n) {
            if (size + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + n));
            }
        }
    }
}
