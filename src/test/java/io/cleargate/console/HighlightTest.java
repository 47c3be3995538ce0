package io.cleargate.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class HighlightTest {

    private static String render(List<Highlight.Segment> segments) {
        StringBuilder sb = new StringBuilder();
        segments.forEach(s -> sb.append(s.marked() ? "<" + s.text() + ">" : s.text()));
        return sb.toString();
    }

    @Test
    void aVerdictsSpanIsMarkedInTheTextItWasFoundIn() {
        var spans = List.of(new Highlight.Span(9, 29, "email"));
        assertEquals("write to <jane.doe@example.com> now", render(Highlight.of("write to jane.doe@example.com now", spans)));
    }

    @Test
    void aRedactedTextMarksItsPlaceholdersInsteadOfStaleOffsets() {
        var spans = List.of(new Highlight.Span(9, 29, "email"));
        assertEquals("write to <[EMAIL_1]> now and <[PHONE_2]>",
                render(Highlight.of("write to [EMAIL_1] now and [PHONE_2]", spans)));
    }

    @Test
    void spansOutsideTheTextOrOverlappingAnEarlierOneAreSkipped() {
        var spans = List.of(new Highlight.Span(0, 4, "a"), new Highlight.Span(2, 6, "b"), new Highlight.Span(8, 99, "c"));
        assertEquals("<abcd>efghij", render(Highlight.of("abcdefghij", spans)));
    }
}
