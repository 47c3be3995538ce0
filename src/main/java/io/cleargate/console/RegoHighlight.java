package io.cleargate.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits Rego (or JSON) source into numbered lines of classified tokens (keyword, string, number,
 * comment, plain) for the workbench's highlighted listing. Lines with a compile error are marked.
 * The template escapes every token; nothing here produces markup.
 */
public final class RegoHighlight {

    public record Token(String text, String css) {}

    public record Line(int number, List<Token> tokens, String error) {
        public boolean failed() {
            return error != null;
        }
    }

    private static final Set<String> KEYWORDS = Set.of("package", "import", "default", "if", "else", "not", "some",
            "every", "in", "contains", "with", "as", "true", "false", "null", "rego", "future");
    private static final Pattern TOKEN = Pattern.compile(
            "(?<cmt>#.*)|(?<str>\"(?:[^\"\\\\]|\\\\.)*\"?|`[^`]*`?)|(?<num>\\b\\d+(?:\\.\\d+)?\\b)|(?<word>[A-Za-z_][A-Za-z0-9_]*)");

    private RegoHighlight() {}

    /** {@code errors}: line number (1-based) → message. */
    public static List<Line> lines(String source, java.util.Map<Integer, String> errors) {
        List<Line> out = new ArrayList<>();
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            out.add(new Line(i + 1, tokens(lines[i]), errors.get(i + 1)));
        }
        return out;
    }

    static List<Token> tokens(String line) {
        List<Token> out = new ArrayList<>();
        Matcher m = TOKEN.matcher(line);
        int at = 0;
        while (m.find()) {
            String css;
            if (m.group("cmt") != null) {
                css = "cmt";
            } else if (m.group("str") != null) {
                css = "str";
            } else if (m.group("num") != null) {
                css = "num";
            } else {
                css = KEYWORDS.contains(m.group("word")) ? "kw" : null;
            }
            if (css == null) {
                continue;
            }
            if (m.start() > at) {
                out.add(new Token(line.substring(at, m.start()), ""));
            }
            out.add(new Token(m.group(), css));
            at = m.end();
        }
        if (at < line.length()) {
            out.add(new Token(line.substring(at), ""));
        }
        return out;
    }
}
