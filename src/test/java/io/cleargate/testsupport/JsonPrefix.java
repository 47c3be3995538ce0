package io.cleargate.testsupport;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Whether a text is the beginning of some JSON document: what a grammar-constrained model that ran
 * out of tokens ({@code finish_reason: "length"}) must still have produced. A pushdown reader over
 * RFC 8259's grammar that accepts anything some continuation could complete and rejects at the
 * first character no continuation could follow. Leading and trailing whitespace are allowed.
 */
public final class JsonPrefix {

    /** What the reader expects next inside a container or at the top. */
    private enum Expect {
        VALUE, FIRST_VALUE_OR_CLOSE, FIRST_KEY_OR_CLOSE, KEY, COLON, COMMA_OR_CLOSE, END
    }

    private JsonPrefix() {}

    /**
     * True if {@code text} can be extended to a valid JSON text (a complete one included; whether it
     * is complete, a JSON parser says).
     */
    public static boolean isPrefix(String text) {
        return read(text) != null;
    }

    /** The containers still open ('{' or '['), or null when no continuation could make it JSON. */
    private static Deque<Character> read(String s) {
        Deque<Character> open = new ArrayDeque<>();
        Expect expect = Expect.VALUE;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                i++;
                continue;
            }
            switch (expect) {
                case END -> {
                    return null;
                }
                case COLON -> {
                    if (c != ':') {
                        return null;
                    }
                    expect = Expect.VALUE;
                    i++;
                }
                case COMMA_OR_CLOSE -> {
                    if (c == ',') {
                        expect = open.peek() == '{' ? Expect.KEY : Expect.VALUE;
                        i++;
                    } else if ((c == '}' && open.peek() == '{') || (c == ']' && open.peek() == '[')) {
                        open.pop();
                        expect = afterValue(open);
                        i++;
                    } else {
                        return null;
                    }
                }
                case KEY, FIRST_KEY_OR_CLOSE -> {
                    if (c == '}' && expect == Expect.FIRST_KEY_OR_CLOSE) {
                        open.pop();
                        expect = afterValue(open);
                        i++;
                    } else if (c == '"') {
                        int end = string(s, i);
                        if (end < 0) {
                            return end == -1 ? open : null;
                        }
                        i = end;
                        expect = Expect.COLON;
                    } else {
                        return null;
                    }
                }
                case VALUE, FIRST_VALUE_OR_CLOSE -> {
                    if (c == ']' && expect == Expect.FIRST_VALUE_OR_CLOSE) {
                        open.pop();
                        expect = afterValue(open);
                        i++;
                    } else if (c == '{' || c == '[') {
                        open.push(c);
                        expect = c == '{' ? Expect.FIRST_KEY_OR_CLOSE : Expect.FIRST_VALUE_OR_CLOSE;
                        i++;
                    } else if (c == '"') {
                        int end = string(s, i);
                        if (end < 0) {
                            return end == -1 ? open : null;
                        }
                        i = end;
                        expect = afterValue(open);
                    } else if (c == '-' || (c >= '0' && c <= '9')) {
                        int end = number(s, i);
                        if (end == -2) {
                            return null;
                        }
                        if (end == -1) {
                            return open; // the text ends inside a number that could still be completed
                        }
                        i = end;
                        expect = afterValue(open);
                    } else {
                        int end = literal(s, i);
                        if (end == -2) {
                            return null;
                        }
                        if (end == -1) {
                            return open;
                        }
                        i = end;
                        expect = afterValue(open);
                    }
                }
                default -> throw new IllegalStateException(expect.name());
            }
        }
        return open;
    }

    private static Expect afterValue(Deque<Character> open) {
        return open.isEmpty() ? Expect.END : Expect.COMMA_OR_CLOSE;
    }

    /** The index after a string starting at {@code start}; -1 if the text ends inside it; -2 if invalid. */
    private static int string(String s, int start) {
        int i = start + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c < 0x20) {
                return -2;
            }
            if (c == '\\') {
                if (i + 1 >= s.length()) {
                    return -1;
                }
                char e = s.charAt(i + 1);
                if (e == 'u') {
                    for (int k = i + 2; k < i + 6; k++) {
                        if (k >= s.length()) {
                            return -1;
                        }
                        if (Character.digit(s.charAt(k), 16) < 0) {
                            return -2;
                        }
                    }
                    i += 6;
                    continue;
                }
                if ("\"\\/bfnrt".indexOf(e) < 0) {
                    return -2;
                }
                i += 2;
                continue;
            }
            i++;
        }
        return -1;
    }

    /**
     * The index after a number starting at {@code start}; -1 if the text ends where the number could
     * still go on or be completed; -2 if invalid. A number that ends the text counts as unfinished.
     */
    private static int number(String s, int start) {
        int i = start;
        if (s.charAt(i) == '-') {
            i++;
            if (i == s.length()) {
                return -1;
            }
        }
        if (s.charAt(i) == '0') {
            i++;
        } else if (s.charAt(i) >= '1' && s.charAt(i) <= '9') {
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
        } else {
            return -2;
        }
        if (i < s.length() && s.charAt(i) == '.') {
            i++;
            int digits = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == s.length()) {
                return -1;
            }
            if (i == digits) {
                return -2;
            }
        }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            int digits = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == s.length()) {
                return -1;
            }
            if (i == digits) {
                return -2;
            }
        }
        return i == s.length() ? -1 : i;
    }

    /** The index after true, false or null at {@code start}; -1 if the text ends inside one; -2 if invalid. */
    private static int literal(String s, int start) {
        for (String word : new String[] {"true", "false", "null"}) {
            int n = Math.min(word.length(), s.length() - start);
            if (s.regionMatches(start, word, 0, n)) {
                return n < word.length() ? -1 : start + word.length();
            }
        }
        return -2;
    }
}
