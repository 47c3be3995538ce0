package io.cleargate.moderation;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An administrator's regular expression, run with RE2/J: matching time is linear in the text, so
 * no pattern can hang a request (no backreferences or lookaround, by design).
 */
final class RegexDetector implements Detector {

    static final Set<String> VIEWS = Set.of("clean", "lower", "compact", "alnum");

    private final String category;
    private final String source;
    private final Pattern pattern;
    private final String view;
    private final int maxLength;
    /** The literal every match begins with, as far as the pattern says it plainly (may be empty). */
    private final String prefix;
    private final boolean caseInsensitive;

    RegexDetector(String category, String source, boolean caseInsensitive, String view, int maxLength) {
        if (!VIEWS.contains(view)) {
            throw new IllegalArgumentException("view must be one of " + VIEWS + ", was '" + view + "'");
        }
        if (maxLength < 1 || maxLength > 1024) {
            throw new IllegalArgumentException("maxLength must be between 1 and 1024, was " + maxLength);
        }
        try {
            this.pattern = Pattern.compile(source, caseInsensitive ? Pattern.CASE_INSENSITIVE : 0);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("pattern does not compile under RE2: " + e.getMessage());
        }
        if (pattern.matcher("").matches()) {
            throw new IllegalArgumentException("pattern matches the empty string");
        }
        this.category = category;
        this.source = source;
        this.view = view;
        this.maxLength = maxLength;
        this.prefix = literalPrefix(source, caseInsensitive);
        this.caseInsensitive = caseInsensitive;
    }

    /**
     * The literal chars a pattern starts with before its first operator ("EMP-" of "EMP-[0-9]{6}"),
     * without a char a quantifier follows; empty when the pattern has an alternative at its top
     * level (then a match need not begin with it), a flag group, an anchor or a class first. Only
     * chars that stand for themselves in RE2 outside a class count, and under case-insensitive
     * matching only ASCII ones (whose case RE2 folds as ours does).
     */
    static String literalPrefix(String source, boolean caseInsensitive) {
        int depth = 0;
        boolean inClass = false;
        for (int i = 0; i < source.length(); i++) {
            char c = source.charAt(i);
            if (c == '\\') {
                i++;
            } else if (inClass) {
                inClass = c != ']';
            } else if (c == '[') {
                inClass = true;
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == '|' && depth == 0) {
                return "";
            }
        }
        var literal = new StringBuilder();
        int i = 0;
        while (i < source.length()) {
            char c = source.charAt(i);
            int next;
            char value;
            if (c == '\\' && i + 1 < source.length() && isAsciiPunctuation(source.charAt(i + 1))) {
                value = source.charAt(i + 1);
                next = i + 2;
            } else if (Character.isLetterOrDigit(c) || " -_,:;'\"!@#%&=<>`~/".indexOf(c) >= 0) {
                value = c;
                next = i + 1;
            } else {
                break;
            }
            if (next < source.length() && "*+?{".indexOf(source.charAt(next)) >= 0) {
                break; // quantified: the char may be missing or repeated
            }
            if (caseInsensitive && value >= 128) {
                break;
            }
            literal.append(value);
            i = next;
        }
        return literal.toString();
    }

    private static boolean isAsciiPunctuation(char c) {
        return c < 128 && !Character.isLetterOrDigit(c) && c > ' ';
    }

    @Override
    public String type() {
        return "regex";
    }

    @Override
    public String defaultCategory() {
        return category;
    }

    @Override
    public String placeholder() {
        return "REDACTED";
    }


    /**
     * RE2/J cannot say whether an attempt reached the end, so the last {@code maxLength} chars of
     * the view (the longest match the administrator declared) are held, from the first position
     * where a match could begin: where the rest of the text agrees with the pattern's literal
     * start (as far as it goes), so prose that cannot begin "EMP-" goes out at once.
     */
    @Override
    public int holdFrom(NormalizedText text, int from) {
        View v = text.view(view);
        int n = v.length();
        for (int s = Math.max(v.countBefore(from), n - maxLength); s < n; s++) {
            int compared = Math.min(prefix.length(), n - s);
            if (v.text.regionMatches(caseInsensitive, s, prefix, 0, compared)) {
                return OpenMatch.original(v, text, s);
            }
        }
        return text.original.length();
    }

    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        View v = text.view(view);
        Matcher m = pattern.matcher(v.text);
        int from = text.searchFrom(this, v);
        for (boolean found = from <= v.length() && m.find(from); found; found = m.find()) {
            text.searched(this, v, m.start(), m.end());
            if (m.end() > m.start()) {
                sink.accept(new Match(v.originalStart(m.start()), v.originalEnd(m.end() - 1), 1.0, v.name,
                        "re2:" + source, m.group()));
            }
        }
    }
}
