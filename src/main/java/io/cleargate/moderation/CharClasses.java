package io.cleargate.moderation;

import java.util.regex.Pattern;

/**
 * Compiles a built-in pattern with its ASCII ranges written out as single chars ("[A-Za-z0-9._-]"
 * as "[ABC...xyz0123456789._-]"), which is the same class. Why: java.util.regex keeps the single
 * chars of a class below U+0100 in one table, but makes each range a predicate of its own and
 * chains them with "or", so "[A-Za-z0-9._%+-]" cost four calls per char read where the table costs
 * one. Those chains were the top frames of the e-mail, token, IBAN and injection patterns.
 *
 * <p>Only plain classes are rewritten: literal chars, escaped punctuation and ranges between two
 * ASCII letters or digits, maybe negated. A class holding anything else (a nested class, "&&", an
 * escape such as \d or \p{..}, a "-" that is not a range), and a pattern with inline flags (case
 * folding changes what a range holds), are left as written. {@code CharClassesTest} checks every
 * class of the built-in patterns against the original on every BMP char.
 */
final class CharClasses {

    private CharClasses() {}

    /** The pattern of {@code regex} with its plain classes' ranges written out. */
    static Pattern compile(String regex) {
        return Pattern.compile(expand(regex));
    }

    /** {@code regex} with its plain classes' ranges written out (the regex itself when it has inline flags). */
    static String expand(String regex) {
        if (hasFlags(regex)) {
            return regex;
        }
        StringBuilder out = new StringBuilder(regex.length() * 2);
        int i = 0;
        int n = regex.length();
        while (i < n) {
            char c = regex.charAt(i);
            if (c == '\\') {
                out.append(regex, i, Math.min(n, i + 2)); // an escape outside a class is copied as it is
                i += 2;
            } else if (c == '[') {
                int end = classEnd(regex, i);
                String written = end < 0 ? null : writtenOut(regex.substring(i + 1, end));
                if (written == null) {
                    if (end < 0) {
                        return regex; // not a class this reader understands: nothing rewritten
                    }
                    out.append(regex, i, end + 1);
                } else {
                    out.append('[').append(written).append(']');
                }
                i = end + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** Whether the pattern sets flags inline ("(?i)", "(?x:...)"): such patterns are not rewritten. */
    private static boolean hasFlags(String regex) {
        for (int i = regex.indexOf("(?"); i >= 0; i = regex.indexOf("(?", i + 1)) {
            if (i > 0 && regex.charAt(i - 1) == '\\') {
                continue;
            }
            char next = i + 2 < regex.length() ? regex.charAt(i + 2) : ')';
            if (next != ':' && next != '=' && next != '!' && next != '<' && next != '>') {
                return true;
            }
        }
        return false;
    }

    /** The index of the "]" closing the class opened at {@code open}, or -1 when there is none or a nested one. */
    private static int classEnd(String regex, int open) {
        int i = open + 1;
        if (i < regex.length() && regex.charAt(i) == '^') {
            i++;
        }
        if (i < regex.length() && regex.charAt(i) == ']') {
            return -1; // a leading literal "]"
        }
        for (; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '[') {
                return -1;
            } else if (c == ']') {
                return i;
            }
        }
        return -1;
    }

    /** The class body with its ranges written out, or null when it is not a plain class. */
    private static String writtenOut(String body) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        if (body.startsWith("^")) {
            out.append('^');
            i = 1;
        }
        boolean changed = false;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (c == '\\') {
                if (i + 1 >= body.length() || Character.isLetterOrDigit(body.charAt(i + 1))) {
                    return null; // \d, \s, \p{..}, \x41, ...: left as written
                }
                out.append(body, i, i + 2);
                i += 2;
            } else if (c == '&' || c == '-') {
                return null; // an intersection, or a "-" that is not inside a range
            } else if (i + 2 < body.length() && body.charAt(i + 1) == '-') {
                char to = body.charAt(i + 2);
                if (!isAsciiAlnum(c) || !isAsciiAlnum(to) || to < c) {
                    return null;
                }
                for (char r = c; r <= to; r++) {
                    if (isAsciiAlnum(r)) {
                        out.append(r);
                    } else {
                        out.append('\\').append(r); // "9-A" holds punctuation: escaped, it stays a literal
                    }
                }
                i += 3;
                changed = true;
            } else {
                if (c >= 128 || Character.isWhitespace(c) && c != ' ') {
                    return null;
                }
                out.append(c);
                i++;
            }
        }
        return changed ? out.toString() : null;
    }

    private static boolean isAsciiAlnum(char c) {
        return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z';
    }
}
