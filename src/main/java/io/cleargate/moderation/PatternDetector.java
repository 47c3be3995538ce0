package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
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

    /** Finds candidate spans in a view's text, left to right, without overlaps. */
    interface Finder {
        default void find(String text, PrivateKeyScanner.Sink sink) {
            find(text, 0, sink);
        }

        /** The candidates a search from view index {@code from} finds, as find() would from there. */
        void find(String text, int from, PrivateKeyScanner.Sink sink);

        /** The same on a view of {@code text}, with what the text shares between detectors at hand. */
        default void find(NormalizedText text, View view, int from, PrivateKeyScanner.Sink sink) {
            find(view.text, from, sink);
        }

        /**
         * False only when the view certainly holds no candidate (what the text shares says so),
         * so that the probe is passed over before its search is set up; true when it may.
         */
        default boolean mayFind(NormalizedText text, View view) {
            return true;
        }

        /**
         * The first view index at or after {@code from} where a match could still start, grow or
         * change once text is appended; {@code text.length()} when none can.
         */
        int openFrom(String text, int from);

        static Finder of(Pattern pattern) {
            return of(pattern, Starts.ANYWHERE);
        }

        /** A finder for a pattern every match of which holds {@code anchor} at most {@code within} chars after its start. */
        static Finder of(Pattern pattern, char anchor, int within) {
            return of(pattern, Starts.anchored(String.valueOf(anchor), within));
        }

        /** A finder that tries the pattern only where {@code starts} says a match may begin. */
        static Finder of(Pattern pattern, Starts starts) {
            return new Tried(pattern, new OpenMatch(pattern), starts);
        }
    }

    /** A regex tried only where its start source says a match may begin (tests compare it with Matcher.find). */
    record Tried(Pattern pattern, OpenMatch open, Starts starts) implements Finder {
        @Override
        public void find(String text, int from, PrivateKeyScanner.Sink sink) {
            open.find(text, from, sink, starts);
        }

        @Override
        public void find(NormalizedText text, View view, int from, PrivateKeyScanner.Sink sink) {
            Starts at = starts == Starts.DIGIT ? text.digits(view).asStarts()
                    : starts instanceof Starts.ShapedDigits shaped ? shaped.over(text.digits(view)) : starts;
            open.find(view.text, from, sink, at);
        }

        /** A probe started by literal words is passed over on a view that lacks a pair of chars of each. */
        @Override
        public boolean mayFind(NormalizedText text, View view) {
            return !(starts instanceof Starts.Literals literals) || literals.mayOccurIn(text.pairs(view));
        }

        @Override
        public int openFrom(String text, int from) {
            return open.from(text, from);
        }
    }

    /**
     * One pattern on one view, with the score given to its hits on that view. {@code anyOf}, when
     * {@code gate} is a cheap pre-filter: it must pass every view text the regex can match in
     * (typically "contains one of these literals"); on a view it rejects the regex is not run.
     */
    record Probe(String view, Finder finder, double weight, Predicate<String> gate, Narrowing narrowing) {
        Probe(String view, Finder finder, double weight, Predicate<String> gate) {
            this(view, finder, weight, gate, null);
        }

        Probe(String view, Pattern pattern, double weight) {
            this(view, Finder.of(pattern), weight, ANY_TEXT);
        }

        Probe(String view, Pattern pattern, double weight, Predicate<String> gate) {
            this(view, Finder.of(pattern), weight, gate);
        }

        boolean mayMatch(String viewText) {
            return gate == ANY_TEXT || gate.test(viewText); // most probes have no gate: no call through the interface
        }
    }

    /** The gate of a probe that runs on every view text. */
    static final Predicate<String> ANY_TEXT = t -> true;

    /**
     * Where a match found in a squeezed view really starts, when squeezing glued text before it
     * onto it (see {@link SqueezedLocalPart}). Both answers are view indices.
     */
    interface Narrowing {
        /** Where the span of the match [start, end) begins: at or after {@code start}. */
        int start(NormalizedText text, View view, int start, int end);

        /**
         * The earliest index at or after {@code open} where the span of a match could begin whose
         * attempt began at {@code open} and still reads at the end of the text.
         */
        int held(NormalizedText text, View view, int open);

        /**
         * How many view chars before the released text an attempt that is still open may have
         * begun: its span is held, but the run it reads from may have gone out already.
         */
        int lookBack();
    }

    /**
     * Output holds back from the first position where any probe could still match (for a
     * narrowed probe, where such a match's span could begin): the gates are not consulted,
     * because the literal a gate looks for may be the very text still to come.
     */
    @Override
    public int holdFrom(NormalizedText text, int from) {
        int hold = text.original.length();
        for (Probe probe : probes) {
            View view = text.view(probe.view());
            int fromView = view.countBefore(from);
            int open;
            if (probe.narrowing() == null) {
                open = probe.finder().openFrom(view.text, fromView);
            } else {
                int earliest = Math.max(0, fromView - probe.narrowing().lookBack());
                open = Math.max(fromView, narrowedOpen(text, view, probe, probe.finder().openFrom(view.text, earliest)));
            }
            hold = Math.min(hold, OpenMatch.original(view, text, open));
        }
        return hold;
    }

    /** The earliest span start over every attempt still open from {@code open} on (each span starts at or after its attempt). */
    private static int narrowedOpen(NormalizedText text, View view, Probe probe, int open) {
        int best = view.length();
        while (open < best) {
            best = Math.min(best, probe.narrowing().held(text, view, open));
            open = probe.finder().openFrom(view.text, open + 1);
        }
        return best;
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
    private final String description;
    private final List<Probe> probes;
    /** Per probe: its view's number ({@link NormalizedText#viewIndex}) and whether that view is exact (clean, lower). */
    private final int[] views;
    private final boolean[] exactViews;
    private final Scorer scorer;

    List<Probe> probes() {
        return probes;
    }

    Scorer scorer() {
        return scorer;
    }

    PatternDetector(String type, String category, String placeholder, String description,
            List<Probe> probes, Scorer scorer) {
        this.type = type;
        this.category = category;
        this.placeholder = placeholder;
        this.description = description;
        this.probes = List.copyOf(probes);
        this.views = this.probes.stream().mapToInt(p -> NormalizedText.viewIndex(p.view())).toArray();
        this.exactViews = new boolean[views.length];
        for (int p = 0; p < views.length; p++) {
            exactViews[p] = this.probes.get(p).view().equals("clean") || this.probes.get(p).view().equals("lower");
        }
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


    /**
     * Runs every probe. A hit in a squeezed view (compact, alnum) that overlaps a hit in an exact
     * view is dropped: the exact one has the precise span, while squeezing glues neighbouring
     * words onto the match. A squeezed hit is scored and narrowed only once it is known not to be
     * dropped: on dense personal data every address the clean view finds is found again in the
     * compact view, and narrowing it (a walk back over its local part) was wasted on each.
     */
    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        Hits hits = null;
        for (int p = 0; p < views.length; p++) {
            Probe probe = probes.get(p);
            View view = text.view(views[p]);
            if (!probe.mayMatch(view.text) || !probe.finder().mayFind(text, view)) {
                continue;
            }
            // A narrowed probe's hold-back is where a span could begin, which may lie past an
            // attempt that is still open, so its chain cannot resume at the release point: it
            // searches the whole context again (its look-behind keeps it from starting inside a run).
            boolean chained = probe.narrowing() == null;
            int from = chained ? text.searchFrom(probe, view) : 0;
            hits = hits != null ? hits : new Hits(text);
            hits.probe(probe, view, exactViews[p], chained);
            probe.finder().find(text, view, from, hits);
        }
        if (hits == null) {
            return;
        }
        List<Match> exact = hits.exact;
        exact.forEach(sink);
        if (!hits.squeezed.isEmpty()) {
            // Overlaps are judged on the whole squeezed span, so narrowing never decides whether a hit counts.
            Overlaps covered = new Overlaps(exact);
            for (SqueezedHit q : hits.squeezed) {
                View view = q.view();
                if (!covered.overlaps(view.originalStart(q.start()), view.originalEnd(q.end() - 1))) {
                    Match m = scored(view, q.probe(), q.start(), q.end());
                    if (m != null) {
                        sink.accept(narrowed(text, view, q.probe(), m, q.start(), q.end()));
                    }
                }
            }
        }
    }

    /**
     * The candidates of one scan's probes, for the probe whose search is running: one sink for the
     * scan, not a lambda per probe and two lists per scan (a short text's scan made them for every
     * detector, most of them finding nothing). The lists are JDK 25.0.3-safe as fields: its C2
     * (ReduceAllocationMerges) miscompiled "isExact ? exact : squeezed" of two fresh local lists
     * captured by the lambda into a null.
     */
    private final class Hits implements PrivateKeyScanner.Sink {
        final List<Match> exact = new ArrayList<>();
        final List<SqueezedHit> squeezed = new ArrayList<>();
        private final NormalizedText text;
        private Probe probe;
        private View view;
        private boolean isExact;
        private boolean chained;

        Hits(NormalizedText text) {
            this.text = text;
        }

        void probe(Probe probe, View view, boolean isExact, boolean chained) {
            this.probe = probe;
            this.view = view;
            this.isExact = isExact;
            this.chained = chained;
        }

        @Override
        public void accept(int s, int e) {
            if (chained) {
                text.searched(probe, view, s, e);
            }
            if (e <= s) {
                return;
            }
            if (isExact) {
                Match m = scored(view, probe, s, e);
                if (m != null) {
                    exact.add(narrowed(text, view, probe, m, s, e));
                }
            } else {
                squeezed.add(new SqueezedHit(view, probe, s, e));
            }
        }
    }

    /** A candidate span [start, end) of a squeezed view, not yet scored. */
    private record SqueezedHit(View view, Probe probe, int start, int end) {}

    /** The match the candidate [s, e) of the view makes, or null when the scorer rejects it. */
    private Match scored(View view, Probe probe, int s, int e) {
        String candidate = view.text.substring(s, e);
        double score = scorer.score(candidate, view.text, s, e);
        if (score < 0) {
            return null;
        }
        return new Match(view.originalStart(s), view.originalEnd(e - 1), Math.min(1.0, score * probe.weight()), view.name,
                description, candidate);
    }

    /** The match with its span (and value) starting where the probe's narrowing says, if it has one. */
    private static Match narrowed(NormalizedText text, View view, Probe probe, Match m, int s, int e) {
        if (probe.narrowing() == null) {
            return m;
        }
        int from = probe.narrowing().start(text, view, s, e);
        return from == s ? m : new Match(view.originalStart(from), m.end(), m.score(), m.view(), m.pattern(),
                view.text.substring(from, e));
    }

    /**
     * Answers "does any of these spans overlap [s, e)?" in logarithmic time: the spans sorted by
     * start, with the furthest end reached by any span up to each index. Comparing every squeezed
     * hit with every exact one was quadratic on texts full of matches.
     */
    static final class Overlaps {
        private final int[] starts;
        private final int[] maxEnd;

        Overlaps(List<Match> spans) {
            List<Match> sorted = new ArrayList<>(spans);
            sorted.sort(java.util.Comparator.comparingInt(Match::start));
            starts = new int[sorted.size()];
            maxEnd = new int[sorted.size()];
            int furthest = Integer.MIN_VALUE;
            for (int i = 0; i < sorted.size(); i++) {
                starts[i] = sorted.get(i).start();
                furthest = Math.max(furthest, sorted.get(i).end());
                maxEnd[i] = furthest;
            }
        }

        boolean overlaps(int s, int e) {
            // the spans starting before e: one of them overlaps when the furthest end passes s
            int lo = 0;
            int hi = starts.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (starts[mid] < e) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo > 0 && maxEnd[lo - 1] > s;
        }
    }

    static Probe probe(String view, String regex, double weight) {
        return new Probe(view, CharClasses.compile(regex), weight);
    }

    /** A probe tried only where {@code starts} says a match may begin, on views passing {@code gate}. */
    static Probe probe(String view, String regex, double weight, Starts starts, Predicate<String> gate) {
        return new Probe(view, Finder.of(CharClasses.compile(regex), starts), weight, gate);
    }

    /**
     * A probe whose every match begins with one of {@code prefixes}: it is tried only where one
     * occurs (one pass over the view finds them; a view without any costs just that pass).
     */
    static Probe prefixed(String view, String regex, double weight, String... prefixes) {
        return new Probe(view, Finder.of(CharClasses.compile(regex), Starts.literals(List.of(prefixes))), weight, ANY_TEXT);
    }

    /** A probe that runs only when the view contains one of {@code anyOf} (each match must contain one). */
    static Probe probe(String view, String regex, double weight, String... anyOf) {
        return new Probe(view, CharClasses.compile(regex), weight, anyOf(anyOf));
    }

    /** A probe that runs only on views passing {@code gate} (which must pass every view the regex can match in). */
    static Probe probe(String view, String regex, double weight, Predicate<String> gate) {
        return new Probe(view, CharClasses.compile(regex), weight, gate);
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
