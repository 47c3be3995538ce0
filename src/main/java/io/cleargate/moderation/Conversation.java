package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The messages of one prompt as the model sees them: one text. Input moderation scans every
 * message on its own and, through this class, the stretches around each boundary between two
 * messages, joined, so that a secret or an injection split across messages is found too. The
 * joins tried are the contents run together ("AKIA" + "IOSF...") and separated by a line break
 * ("Ignore all previous" + "instructions"). Only findings that cross a boundary are returned (the
 * per-message scan has the others), with their ends mapped back to (message, offset).
 */
final class Conversation {

    /**
     * How far each side of a boundary is scanned. Bounds the extra work to a few kilobytes per
     * message whatever the prompt's length; longer split matches still show their boundary part.
     */
    static final int WINDOW = 2048;
    private static final List<String> JOINS = List.of("", "\n");

    /** A position in the prompt: message index and offset in that message's content. */
    record Position(int message, int offset) {}

    /** A match that crosses at least one message boundary, with both ends in message coordinates. */
    record Spanning(Finding finding, Position start, Position end) {}

    private Conversation() {}

    /** The findings of {@code rules} that exist only in the joined conversation. */
    static List<Spanning> spanningFindings(RuleSet rules, List<String> contents) {
        if (contents.size() < 2) {
            return List.of();
        }
        Map<String, Spanning> found = new LinkedHashMap<>();
        for (String join : JOINS) {
            int[] starts = new int[contents.size()];
            StringBuilder joined = new StringBuilder();
            for (int i = 0; i < contents.size(); i++) {
                if (i > 0) {
                    joined.append(join);
                }
                starts[i] = joined.length();
                joined.append(contents.get(i));
            }
            String text = joined.toString();
            for (int m = 1; m < contents.size(); m++) {
                int boundary = starts[m]; // the first character of message m
                int from = Math.max(0, boundary - join.length() - WINDOW);
                int to = Math.min(text.length(), boundary + WINDOW);
                List<Finding> findings = rules.scan(NormalizedText.of(text.substring(from, to)), Direction.INPUT).findings();
                for (Finding f : findings) {
                    int start = from + f.start();
                    int end = from + f.end();
                    Position s = position(starts, contents, join, start, false);
                    Position e = position(starts, contents, join, end, true);
                    if (s.message() != e.message()) {
                        String key = f.rule().id() + "|" + s + "|" + e;
                        found.putIfAbsent(key, new Spanning(f, s, e));
                    }
                }
            }
        }
        return List.copyOf(found.values());
    }

    /**
     * Maps a joined-text offset back to a message. A start inside a separator belongs to the next
     * message; an end inside one (or at a message's first character) to the previous message.
     */
    static Position position(int[] starts, List<String> contents, String join, int at, boolean isEnd) {
        int m = starts.length - 1;
        while (m > 0 && (isEnd ? at <= starts[m] : at < starts[m])) {
            m--;
        }
        int offset = at - starts[m];
        int length = contents.get(m).length();
        if (isEnd && offset > length) { // an end inside the separator after message m
            return new Position(m, length);
        }
        if (!isEnd && offset >= length && m < starts.length - 1) { // a start at or after message m's end
            return new Position(m + 1, 0);
        }
        return new Position(m, offset);
    }

    /** The part of a spanning finding that lies in {@code message}, as a finding in that message's coordinates. */
    static Finding partIn(Spanning s, int message, int length) {
        if (message < s.start().message() || message > s.end().message()) {
            return null;
        }
        int start = message == s.start().message() ? s.start().offset() : 0;
        int end = message == s.end().message() ? s.end().offset() : length;
        Match m = s.finding().match();
        return new Finding(s.finding().rule(), s.finding().action(),
                new Match(start, end, m.score(), m.view(), m.pattern(), m.value()));
    }

    /** Each message's parts of the spanning findings, by message index. */
    static List<List<Finding>> partsByMessage(List<Spanning> spanning, List<String> contents) {
        List<List<Finding>> parts = new ArrayList<>();
        for (int i = 0; i < contents.size(); i++) {
            List<Finding> mine = new ArrayList<>();
            for (Spanning s : spanning) {
                Finding part = partIn(s, i, contents.get(i).length());
                if (part != null) {
                    mine.add(part);
                }
            }
            parts.add(mine);
        }
        return parts;
    }
}
