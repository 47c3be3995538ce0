package io.cleargate.engine.embedded.tokenizer;

/**
 * GPT-2's reversible byte-to-character map used by byte-level BPE: printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100 onwards, so every byte string becomes visible text.
 */
final class ByteLevel {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char ch = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = ch;
            CHAR_TO_BYTE[ch] = b;
        }
    }

    private ByteLevel() {}

    /** The UTF-8 bytes of {@code text}, each written as its byte-level character. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /** Appends the bytes a byte-level token stands for; false if the token has a non-byte-level character. */
    static boolean decode(String token, java.io.ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            char ch = token.charAt(i);
            int b = ch < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[ch] : -1;
            if (b < 0) {
                return false;
            }
            out.write(b);
        }
        return true;
    }
}
