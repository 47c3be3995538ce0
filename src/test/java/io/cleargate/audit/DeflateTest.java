package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

class DeflateTest {

    private static final byte[] Z1 = StoredBody.DICTIONARY.getBytes(StandardCharsets.UTF_8);

    /** What the JDK's zlib inflates the output to, with the dictionary set when there is one. */
    private static byte[] inflate(byte[] packed, byte[] dictionary, int expectedLength) throws Exception {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(packed);
            if (dictionary != null) {
                inflater.setDictionary(dictionary);
            }
            byte[] out = new byte[expectedLength + 16];
            int n = 0;
            while (!inflater.finished()) {
                int got = inflater.inflate(out, n, out.length - n);
                n += got;
                if (got == 0 && !inflater.finished() && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new AssertionError("truncated stream after " + n + " bytes");
                }
                if (n == out.length) {
                    throw new AssertionError("inflates to more than " + expectedLength + " bytes");
                }
            }
            assertEquals(0, inflater.getRemaining(), "bytes after the final block");
            return Arrays.copyOf(out, n);
        } finally {
            inflater.end();
        }
    }

    private static byte[] zlib(byte[] data, byte[] dictionary) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        if (dictionary != null) {
            d.setDictionary(dictionary);
        }
        d.setInput(data);
        d.finish();
        byte[] out = new byte[data.length + 1024];
        int n = 0;
        while (!d.finished()) {
            n += d.deflate(out, n, out.length - n);
        }
        d.end();
        return Arrays.copyOf(out, n);
    }

    /** Inputs of every shape the encoder has a branch for. */
    private static List<byte[]> inputs() {
        Random random = new Random(20261201);
        List<byte[]> inputs = new ArrayList<>();
        inputs.add(new byte[0]);
        inputs.add(new byte[] {'{'});
        inputs.add("{}".getBytes(StandardCharsets.UTF_8));
        inputs.add("abc".getBytes(StandardCharsets.UTF_8));
        inputs.add("abcd".getBytes(StandardCharsets.UTF_8));
        inputs.add("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.UTF_8));
        byte[] run = new byte[Deflate.MAX_INPUT];
        inputs.add(run); // matches of 258 at distance 1
        byte[] noise = new byte[Deflate.MAX_INPUT];
        random.nextBytes(noise);
        inputs.add(noise); // incompressible: a stored block
        inputs.add(Arrays.copyOf(noise, 700));
        inputs.add(StoredBodyTest.requestBody().getBytes(StandardCharsets.UTF_8));
        inputs.add(Z1.clone()); // the dictionary itself: one match after another
        String prose = "The quarterly report, summarised in three sentences, with 12.5% growth in 2026. ";
        inputs.add(prose.repeat(18).getBytes(StandardCharsets.UTF_8));
        inputs.add(prose.repeat(500).substring(0, Deflate.MAX_INPUT).getBytes(StandardCharsets.UTF_8));
        inputs.add("Grüße, 東京, emoji 🙂 and the rest in UTF-8. ".repeat(30).getBytes(StandardCharsets.UTF_8));
        for (int k = 0; k < 200; k++) {
            // Text from a small alphabet with repeats at random distances, up to the window's size.
            int length = random.nextInt(k < 150 ? 3000 : Deflate.MAX_INPUT + 1);
            byte[] b = new byte[length];
            for (int i = 0; i < length; i++) {
                if (i > 8 && random.nextInt(4) == 0) {
                    int from = random.nextInt(i);
                    int n = Math.min(length - i, 3 + random.nextInt(300));
                    for (int j = 0; j < n; j++) {
                        b[i + j] = b[from + j];
                    }
                    i += n - 1;
                } else {
                    b[i] = (byte) ("{}\":,abcdefghij0123456789 \n".charAt(random.nextInt(27)));
                }
            }
            inputs.add(b);
        }
        return inputs;
    }

    @Test
    void everyOutputInflatesWithTheJdksZlibToItsInputWithOrWithoutTheDictionary() throws Exception {
        Deflate encoder = new Deflate(); // one encoder throughout: nothing of a call may leak into the next
        Deflate.Dictionary z1 = new Deflate.Dictionary(Z1);
        for (byte[] input : inputs()) {
            assertArrayEquals(input, inflate(encoder.deflate(input, null), null, input.length), "length " + input.length);
            assertArrayEquals(input, inflate(encoder.deflate(input, z1), Z1, input.length), "length " + input.length + ", z1");
        }
    }

    /**
     * The stored bytes of main d124798's encoder, for every input above with and without the z1
     * dictionary plus 2,000 random texts up to 4 KB (body-sized, the block type varying): the SHA-256
     * of their lengths and bytes. The encoder's speed-ups must write exactly these bytes.
     */
    @Test
    void itWritesTheSameBytesAsTheEncoderItReplaced() throws Exception {
        Deflate encoder = new Deflate();
        Deflate.Dictionary z1 = new Deflate.Dictionary(Z1);
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        List<byte[]> all = inputs();
        Random random = new Random(20261202);
        for (int k = 0; k < 2000; k++) {
            byte[] b = new byte[random.nextInt(4096)];
            int alphabet = 2 + random.nextInt(k % 2 == 0 ? 30 : 254);
            for (int i = 0; i < b.length; i++) {
                b[i] = i > 4 && random.nextInt(3) == 0 ? b[random.nextInt(i)] : (byte) (' ' + random.nextInt(alphabet));
            }
            all.add(b);
        }
        for (byte[] input : all) {
            for (byte[] packed : List.of(encoder.deflate(input, null), encoder.deflate(input, z1))) {
                digest.update(java.nio.ByteBuffer.allocate(4).putInt(packed.length).array());
                digest.update(packed);
            }
        }
        assertEquals("108f4ec6cce474092528b50c49af0e7ed17a6803fdadb9a9273197466432ec08", java.util.HexFormat.of().formatHex(digest.digest()));
    }

    @Test
    void itWritesDynamicFixedAndStoredBlocksEachWhereItIsShortest() throws Exception {
        Deflate encoder = new Deflate();
        Deflate.Dictionary z1 = new Deflate.Dictionary(Z1);
        byte[] body = StoredBodyTest.requestBody().getBytes(StandardCharsets.UTF_8);
        byte[] noise = new byte[500];
        new Random(7).nextBytes(noise);
        // The block type is bits 1-2 of the first byte: 0 stored, 1 fixed, 2 dynamic codes.
        assertEquals(2, (encoder.deflate(body, z1)[0] >> 1) & 3, "a body: its own codes");
        assertEquals(1, (encoder.deflate("short text".getBytes(StandardCharsets.UTF_8), null)[0] >> 1) & 3, "fixed codes");
        byte[] stored = encoder.deflate(noise, null);
        assertEquals(0, (stored[0] >> 1) & 3, "random bytes: stored");
        assertEquals(noise.length + 5, stored.length);
        assertArrayEquals(noise, inflate(stored, null, noise.length));
    }

    @Test
    void aBodyStoresWithinAFewPercentOfZlibsDefaultLevel() {
        Deflate encoder = new Deflate();
        Deflate.Dictionary z1 = new Deflate.Dictionary(Z1);
        byte[] body = StoredBodyTest.requestBody().getBytes(StandardCharsets.UTF_8);
        int ours = encoder.deflate(body, z1).length;
        int theirs = zlib(body, Z1).length;
        assertTrue(ours <= theirs * 1.10, "ours " + ours + " B, zlib " + theirs + " B");
        byte[] prose = "The quarterly report, summarised in three sentences, with 12.5% growth in 2026. "
                .repeat(18).getBytes(StandardCharsets.UTF_8);
        assertTrue(encoder.deflate(prose, null).length <= zlib(prose, null).length * 1.10);
    }

    @Test
    void skewedFrequenciesGetCompleteCodesNoLongerThanDeflateAllows() throws Exception {
        // Fibonacci frequencies make a Huffman tree as deep as it gets: 26 symbols, depth 25 unlimited.
        int[] freq = new int[286];
        int a = 1;
        int b = 1;
        for (int i = 0; i < 26; i++) {
            freq[i * 7] = a;
            int next = a + b;
            a = b;
            b = next;
        }
        byte[] lengths = new byte[286];
        new Deflate.Huffman().lengths(freq, 286, 15, lengths);
        double kraft = 0;
        for (int i = 0; i < 286; i++) {
            assertTrue(lengths[i] <= 15, "symbol " + i + ": " + lengths[i] + " bits");
            assertEquals(freq[i] != 0, lengths[i] != 0, "symbol " + i);
            kraft += lengths[i] == 0 ? 0 : Math.pow(2, -lengths[i]);
        }
        assertEquals(1.0, kraft, 1e-12, "a complete prefix code");
        // The same skew as text: bytes in Fibonacci proportions, shuffled, so most stay literals.
        var text = new java.util.ArrayList<Byte>();
        a = 1;
        b = 1;
        for (int i = 0; i < 20; i++) {
            for (int k = 0; k < a; k++) {
                text.add((byte) ('A' + i));
            }
            int next = a + b;
            a = b;
            b = next;
        }
        java.util.Collections.shuffle(text, new Random(3));
        byte[] input = new byte[text.size()];
        for (int i = 0; i < input.length; i++) {
            input[i] = text.get(i);
        }
        assertArrayEquals(input, inflate(new Deflate().deflate(input, null), null, input.length));
    }

    @Test
    void huffmanLeavesComeInTheOrderASortOfFrequencyThenSymbolGives() {
        Random random = new Random(11);
        Deflate.Huffman huffman = new Deflate.Huffman();
        for (int k = 0; k < 3000; k++) {
            int n = k % 3 == 0 ? 19 : k % 3 == 1 ? 30 : 286;
            int[] freq = new int[n];
            int bound = k % 4 == 0 ? 40_000 : 1 + random.nextInt(k % 4 == 1 ? 3 : 1100); // both sides of the buckets' limit
            for (int i = 0; i < n; i++) {
                freq[i] = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(bound);
            }
            List<Long> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (freq[i] != 0) {
                    expected.add((long) freq[i] << 32 | i);
                }
            }
            expected.sort(null);
            int leaves = huffman.sortLeaves(freq, n);
            long[] got = Arrays.copyOf(huffman.order(), leaves);
            assertArrayEquals(expected.stream().mapToLong(Long::longValue).toArray(), got, "case " + k);
        }
    }

    @Test
    void inputsOverTheWindowAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Deflate().deflate(new byte[Deflate.MAX_INPUT + 1], null));
    }

    @Test
    void distanceSymbolsMatchTheTableOfRfc1951() {
        int[] base = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
                3073, 4097, 6145, 8193, 12289, 16385, 24577, 32769};
        for (int symbol = 0; symbol < 30; symbol++) {
            for (int d = base[symbol]; d < base[symbol + 1]; d++) {
                assertEquals(symbol, Deflate.distanceIndex(d), "distance " + d);
            }
        }
    }
}
