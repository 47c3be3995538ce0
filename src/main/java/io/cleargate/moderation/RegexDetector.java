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
     * the view (the longest match the administrator declared) are held.
     */
    @Override
    public int holdFrom(NormalizedText text, int from) {
        View v = text.view(view);
        return OpenMatch.original(v, text, Math.max(v.countBefore(from), v.length() - maxLength));
    }

    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        View v = text.view(view);
        Matcher m = pattern.matcher(v.text);
        while (m.find()) {
            if (m.end() > m.start()) {
                sink.accept(new Match(v.originalStart(m.start()), v.originalEnd(m.end() - 1), 1.0, v.name,
                        "re2:" + source, m.group()));
            }
        }
    }
}
