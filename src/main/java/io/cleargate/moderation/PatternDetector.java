package io.cleargate.moderation;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A detector made of a built-in regular expression (written without nested quantifiers, so it
 * cannot backtrack badly), the views it runs on, and a scorer that validates a candidate
 * (checksums, context) and returns its confidence, or a negative number to reject it.
 */
class PatternDetector implements Detector {

    @FunctionalInterface
    interface Scorer {
        double score(String candidate, String viewText, int start, int end);
    }

    /**
     * One pattern on one view, with the score given to its hits on that view. {@code anyOf}, when
     * {@code gate} is a cheap pre-filter: it must pass every view text the regex can match in
     * (typically "contains one of these literals"); on a view it rejects the regex is not run.
     */
    record Probe(String view, Pattern pattern, double weight, Predicate<String> gate) {
        Probe(String view, Pattern pattern, double weight) {
            this(view, pattern, weight, t -> true);
        }

        boolean mayMatch(String viewText) {
            return gate.test(viewText);
        }
    }

    /** A gate passing views that contain at least one of {@code literals}. */
    static Predicate<String> anyOf(String... literals) {
        List<String> all = List.of(literals);
        return t -> {
            for (String literal : all) {
                if (t.contains(literal)) {
                    return true;
                }
            }
            return false;
        };
    }

    private final String type;
    private final String category;
    private final String placeholder;
    private final int maxSpan;
    private final String description;
    private final List<Probe> probes;
    private final Scorer scorer;

    PatternDetector(String type, String category, String placeholder, int maxSpan, String description,
            List<Probe> probes, Scorer scorer) {
        this.type = type;
        this.category = category;
        this.placeholder = placeholder;
        this.maxSpan = maxSpan;
        this.description = description;
        this.probes = List.copyOf(probes);
        this.scorer = scorer;
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
        return placeholder;
    }

    @Override
    public int maxSpan() {
        return maxSpan;
    }

    /**
     * Runs every probe. A hit in a squeezed view (compact, alnum) that overlaps a hit in an exact
     * view is dropped: the exact one has the precise span, while squeezing glues neighbouring
     * words onto the match.
     */
    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        List<Match> exact = new java.util.ArrayList<>();
        List<Match> squeezed = new java.util.ArrayList<>();
        for (Probe probe : probes) {
            View view = text.view(probe.view());
            if (!probe.mayMatch(view.text)) {
                continue;
            }
            boolean isExact = view.name.equals("clean") || view.name.equals("lower");
            Matcher m = probe.pattern().matcher(view.text);
            while (m.find()) {
                int s = m.start();
                int e = m.end();
                if (e <= s) {
                    continue;
                }
                String candidate = view.text.substring(s, e);
                double score = scorer.score(candidate, view.text, s, e);
                if (score >= 0) {
                    (isExact ? exact : squeezed).add(new Match(view.originalStart(s), view.originalEnd(e - 1),
                            Math.min(1.0, score * probe.weight()), view.name, description, candidate));
                }
            }
        }
        exact.forEach(sink);
        for (Match q : squeezed) {
            if (exact.stream().noneMatch(x -> x.start() < q.end() && q.start() < x.end())) {
                sink.accept(q);
            }
        }
    }

    static Probe probe(String view, String regex, double weight) {
        return new Probe(view, Pattern.compile(regex), weight);
    }

    /** A probe that runs only when the view contains one of {@code anyOf} (each match must contain one). */
    static Probe probe(String view, String regex, double weight, String... anyOf) {
        return new Probe(view, Pattern.compile(regex), weight, anyOf(anyOf));
    }

    /** A probe that runs only on views passing {@code gate} (which must pass every view the regex can match in). */
    static Probe probe(String view, String regex, double weight, Predicate<String> gate) {
        return new Probe(view, Pattern.compile(regex), weight, gate);
    }

    static Probe probe(String view, String regex, int flags, double weight) {
        return new Probe(view, Pattern.compile(regex, flags), weight);
    }

    /** True when one of {@code words} occurs, as a whole word, within {@code radius} chars before {@code start}. */
    static boolean contextBefore(String text, int start, int radius, String... words) {
        String before = text.substring(Math.max(0, start - radius), start).toLowerCase(java.util.Locale.ROOT);
        for (String w : words) {
            for (int i = before.indexOf(w); i >= 0; i = before.indexOf(w, i + 1)) {
                boolean startsWord = i == 0 || !Character.isLetter(before.charAt(i - 1));
                int after = i + w.length();
                boolean endsWord = after >= before.length() || !Character.isLetter(before.charAt(after));
                if (startsWord && endsWord) {
                    return true;
                }
            }
        }
        return false;
    }
}
