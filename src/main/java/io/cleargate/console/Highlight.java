package io.cleargate.console;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a text into plain and marked segments for display: the spans moderation verdicts name
 * (offsets into the text they were found in) and the placeholders a redaction left (such as
 * {@code [EMAIL_1]}). The template escapes every segment; nothing here produces markup.
 */
public final class Highlight {

    /** A piece of text; {@code label} is set on marked pieces (the rule or category that matched). */
    public record Segment(String text, String label) {
        public boolean marked() {
            return label != null;
        }
    }

    /** A verdict's span with its label. */
    public record Span(int start, int end, String label) {}

    private static final Pattern PLACEHOLDER = Pattern.compile("\\[[A-Z][A-Z_]*_\\d+\\]");

    private Highlight() {}

    /** Marks the spans that lie inside the text, in order, skipping overlaps. */
    public static List<Segment> spans(String text, List<Span> spans) {
        List<Segment> out = new ArrayList<>();
        int at = 0;
        List<Span> sorted = spans.stream().filter(s -> s.start() >= 0 && s.end() > s.start() && s.end() <= text.length())
                .sorted(Comparator.comparingInt(Span::start)).toList();
        for (Span s : sorted) {
            if (s.start() < at) {
                continue;
            }
            if (s.start() > at) {
                out.add(new Segment(text.substring(at, s.start()), null));
            }
            out.add(new Segment(text.substring(s.start(), s.end()), s.label()));
            at = s.end();
        }
        if (at < text.length()) {
            out.add(new Segment(text.substring(at), null));
        }
        return out;
    }

    /** Marks redaction placeholders, labelled with the category they stand for. */
    public static List<Segment> placeholders(String text) {
        List<Span> spans = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            String token = m.group();
            spans.add(new Span(m.start(), m.end(), "redacted " + token.substring(1, token.lastIndexOf('_')).toLowerCase(java.util.Locale.ROOT)));
        }
        return spans(text, spans);
    }

    /**
     * The text as stored with what moderation did marked: placeholders when the text was rewritten
     * by a redaction (offsets then refer to the original), else the verdicts' own spans.
     */
    public static List<Segment> of(String text, List<Span> verdictSpans) {
        if (text == null) {
            return List.of();
        }
        List<Segment> placeholders = placeholders(text);
        if (placeholders.stream().anyMatch(Segment::marked)) {
            return placeholders;
        }
        return spans(text, verdictSpans);
    }
}
