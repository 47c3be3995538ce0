package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Keyword and phrase lists (and topic lists, which are keyword lists with a topic category).
 * Terms are normalised exactly like the text (NFKC, diacritics, homoglyphs, case, whitespace) and
 * matched on word boundaries. Terms of six or more letters are also matched with every separator
 * removed ("k.i.l.l.s.w.i.t.c.h"), at a lower score, because short ones would match inside
 * ordinary words.
 */
final class KeywordDetector implements Detector {

    private static final int COMPACT_MIN = 6;

    private final String type;
    private final String category;
    private final Pattern words;
    private final Pattern compact;
    private final OpenMatch wordsOpen;
    private final OpenMatch compactOpen;
    private final int termCount;

    KeywordDetector(String type, String category, List<String> terms) {
        this.type = type;
        this.category = category;
        Set<String> folded = new LinkedHashSet<>();
        Set<String> squeezed = new LinkedHashSet<>();
        for (String term : terms) {
            String f = NormalizedText.of(term.strip()).lower().text.strip();
            if (f.isEmpty()) {
                throw new IllegalArgumentException("empty term in list");
            }
            folded.add(f);
            String a = NormalizedText.of(term).alnum().text;
            if (a.length() >= COMPACT_MIN) {
                squeezed.add(a);
            }
        }
        this.termCount = folded.size();
        this.words = Pattern.compile("(?<![\\p{L}\\p{N}])(?:" + alternation(folded) + ")(?![\\p{L}\\p{N}])");
        this.compact = squeezed.isEmpty() ? null : Pattern.compile(alternation(squeezed));
        this.wordsOpen = new OpenMatch(words);
        this.compactOpen = compact == null ? null : new OpenMatch(compact);
    }

    private static String alternation(Set<String> terms) {
        return terms.stream().sorted(Comparator.comparingInt(String::length).reversed()).map(Pattern::quote)
                .collect(Collectors.joining("|"));
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public String defaultCategory() {
        return category;
    }

    @Override
    public String placeholder() {
        return type.equals("topic") ? "TOPIC" : "TERM";
    }


    int termCount() {
        return termCount;
    }

    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        List<Match> found = new ArrayList<>();
        find(words, text.lower(), 1.0, "term list (" + termCount + " terms, word boundaries)", found);
        if (compact != null) {
            find(compact, text.alnum(), 0.75, "term list without separators", found);
            // Without separators a term also matches inside longer words ("bluefinch"); that only
            // counts as a hit when something was actually squeezed out of the original span.
            found.removeIf(m -> m.view().equals("alnum") && m.end() - m.start() == m.value().length());
        }
        found.forEach(sink);
    }

    @Override
    public int holdFrom(NormalizedText text, int from) {
        View lower = text.lower();
        int hold = OpenMatch.original(lower, text, wordsOpen.from(lower.text, lower.countBefore(from)));
        if (compactOpen != null) {
            View alnum = text.alnum();
            hold = Math.min(hold, OpenMatch.original(alnum, text, compactOpen.from(alnum.text, alnum.countBefore(from))));
        }
        return hold;
    }

    private static void find(Pattern p, View view, double score, String description, List<Match> out) {
        Matcher m = p.matcher(view.text);
        while (m.find()) {
            out.add(new Match(view.originalStart(m.start()), view.originalEnd(m.end() - 1), score, view.name, description,
                    m.group()));
        }
    }
}
