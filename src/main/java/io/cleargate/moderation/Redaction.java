package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Action;
import java.util.Comparator;
import java.util.List;

/** Rewrites a stretch of text with the redacting findings replaced by their placeholders. */
final class Redaction {

    private Redaction() {}

    /**
     * Returns {@code text[from, to)} with every REDACT finding that starts in that range replaced
     * by its placeholder; overlapping redactions are merged into one placeholder (the one that
     * starts first, or the longest).
     */
    static String apply(String text, int from, int to, List<Finding> findings, Placeholders placeholders) {
        var redact = findings.stream()
                .filter(f -> f.action() == Action.REDACT && f.start() >= from && f.start() < to)
                .sorted(Comparator.comparingInt(Finding::start).thenComparingInt(f -> -f.end()))
                .toList();
        if (redact.isEmpty()) {
            return text.substring(from, to);
        }
        var out = new StringBuilder(to - from);
        int at = from;
        int next = 0;
        while (next < redact.size()) {
            Finding f = redact.get(next++);
            if (f.start() < at) {
                continue; // inside a span already replaced
            }
            out.append(text, at, f.start());
            out.append(placeholders.placeholder(f.rule().placeholder(), f.match().value()));
            at = Math.min(to, Math.max(at, f.end()));
            // a later overlapping redaction extends the replaced span; sorted by start, so the
            // candidates are the ones right after this one (each is looked at once)
            for (int j = next; j < redact.size() && redact.get(j).start() < at; j++) {
                if (redact.get(j).end() > at) {
                    at = Math.min(to, redact.get(j).end());
                }
            }
        }
        out.append(text, at, to);
        return out.toString();
    }
}
