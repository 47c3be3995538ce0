package io.cleargate.refusal.detector;

import io.cleargate.refusal.detector.Cue.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * Tells whether a model's answer is its own refusal, deflection or partial answer, in English,
 * Chinese, German, French, Spanish and Japanese, without any dependency on the gateway.
 *
 * <p>How: the answer's first {@value #SCAN_LIMIT} characters are lower-cased (keeping offsets) and
 * scanned once by an Aho-Corasick automaton over the whole {@link Lexicon}. A refusal or
 * deflection phrase decides only when it is the model speaking: not inside quotation marks (an
 * answer that quotes a refusal), not part of an idiom ("I can't stress enough"), and early in the
 * answer (a refusal comes first). Apologies, offers ("if you have other questions") and policy
 * talk add confidence. A refusal followed by a substantive answer is {@link RefusalKind#PARTIAL};
 * a topic switch makes it a {@link RefusalKind#DEFLECTION}. Linear in the answer's length; no
 * regular expressions; thread-safe.
 */
public final class RefusalDetector {

    /** Only the start of an answer is read: that is where models refuse. */
    public static final int SCAN_LIMIT = 4096;
    /** Verdicts below this score are reported as {@link RefusalKind#NONE}. */
    public static final double THRESHOLD = 0.6;

    private static final String CONTENT_FILTER = "content_filter";
    private static final String TOOL_CALLS = "tool_calls";
    private static final int EARLY_CHARS = 400;
    private static final int EARLY_SENTENCES = 3;
    private static final int SUBSTANCE_LATIN = 120;
    private static final int SUBSTANCE_CJK = 45;
    private static final int SHORT_LATIN = 200;
    private static final int SHORT_CJK = 70;

    private static final PhraseMatcher<Cue> MATCHER = new PhraseMatcher<>(Lexicon.phrases());

    /** A cue found where the model speaks (not quoted, not inside an idiom). */
    private record Found(Cue cue, int start, int end, int sentence) {}

    public RefusalVerdict detect(CharSequence text, String finishReason) {
        return detect(text, text == null ? 0 : text.length(), finishReason);
    }

    /**
     * Judges an answer of which only the start may be at hand (a stream keeps at most
     * {@link #SCAN_LIMIT} characters): {@code totalLength} is the whole answer's length.
     *
     * @param finishReason the upstream's finish reason, or null when the answer did not end normally
     */
    public RefusalVerdict detect(CharSequence start, long totalLength, String finishReason) {
        CharSequence answer = start == null ? "" : start;
        int limit = Math.min(answer.length(), SCAN_LIMIT);
        char[] s = normalize(answer, limit);
        String language = Languages.detect(s, limit);
        if (CONTENT_FILTER.equals(finishReason)) {
            return new RefusalVerdict(RefusalKind.CONTENT_FILTER, 0, 0, 1.0, language, "finish_reason.content_filter");
        }
        if (totalLength <= limit && blank(s, limit)) {
            if (TOOL_CALLS.equals(finishReason)) {
                return RefusalVerdict.none(language); // it answered with tool calls, not with text
            }
            return new RefusalVerdict(RefusalKind.EMPTY_CUTOFF, 0, 0, 1.0, language, "empty");
        }
        List<PhraseMatcher.Hit<Cue>> hits = MATCHER.scan(s, limit);
        if (!anyDecisive(hits)) {
            // Only a refusal, deflection or canned cue can make a verdict (decide() finds none
            // otherwise): most answers have none, and need no sentence and quote layout.
            return RefusalVerdict.none(language);
        }
        Layout layout = Layout.of(s, limit);
        List<Found> found = cues(s, limit, layout, hits);
        long unread = Math.max(0, totalLength - limit);
        return decide(s, layout, found, (int) Math.min(unread, Integer.MAX_VALUE), language);
    }

    private static boolean blank(char[] s, int limit) {
        for (int i = 0; i < limit; i++) {
            if (s[i] != ' ' && s[i] != '\n') {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #normal} of every ASCII char, worked out once: most answers are mostly ASCII, and the
     * three {@link Character} look-ups per char were a fifth of the detector's time.
     */
    private static final char[] ASCII_NORMAL = new char[0x80];

    static {
        for (char c = 0; c < ASCII_NORMAL.length; c++) {
            ASCII_NORMAL[c] = normal(c);
        }
    }

    /** Lower-cases and unifies apostrophes and spaces, one char for one char so offsets stay valid. */
    static char[] normalize(CharSequence text, int limit) {
        char[] s = new char[limit];
        text.getChars(0, limit, s, 0);
        for (int i = 0; i < limit; i++) {
            char c = s[i];
            s[i] = c < ASCII_NORMAL.length ? ASCII_NORMAL[c] : normal(c);
        }
        return s;
    }

    private static char normal(char c) {
        return switch (c) {
            case '\u2019', '\u2018', '\u02bc', '\u00b4', '`' -> '\'';
            case '\n', '\r' -> '\n';
            default -> Character.isWhitespace(c) || Character.isSpaceChar(c) ? ' ' : Character.toLowerCase(c);
        };
    }

    private static boolean anyDecisive(List<PhraseMatcher.Hit<Cue>> hits) {
        for (var h : hits) {
            Role r = h.payload().role();
            if (r == Role.REFUSE || r == Role.DEFLECT || r == Role.CANNED) {
                return true;
            }
        }
        return false;
    }

    private static List<Found> cues(char[] s, int limit, Layout layout, List<PhraseMatcher.Hit<Cue>> hits) {
        List<PhraseMatcher.Hit<Cue>> idioms = new ArrayList<>();
        for (var h : hits) {
            if (h.payload().role() == Role.IDIOM && onWordBoundaries(s, h.start(), h.end(), limit)) {
                idioms.add(h);
            }
        }
        List<Found> found = new ArrayList<>();
        for (var h : hits) {
            Cue cue = h.payload();
            if (cue.role() == Role.IDIOM || layout.quoted[h.start()] || !onWordBoundaries(s, h.start(), h.end(), limit)
                    || insideIdiom(h, idioms)) {
                continue;
            }
            found.add(new Found(cue, h.start(), h.end(), layout.sentence[h.start()]));
        }
        return found;
    }

    /** A Latin phrase must start and end on word boundaries; CJK phrases have no spaces to respect. */
    private static boolean onWordBoundaries(char[] s, int start, int end, int limit) {
        boolean latinStart = isLatinLetter(s[start]);
        boolean latinEnd = isLatinLetter(s[end - 1]);
        if (latinStart && start > 0 && Character.isLetterOrDigit(s[start - 1])) {
            return false;
        }
        return !(latinEnd && end < limit && Character.isLetterOrDigit(s[end]));
    }

    private static boolean isLatinLetter(char c) {
        return Character.isLetter(c) && c < 0x2e80;
    }

    private static boolean insideIdiom(PhraseMatcher.Hit<Cue> h, List<PhraseMatcher.Hit<Cue>> idioms) {
        for (var idiom : idioms) {
            if (idiom.start() < h.end() && h.start() < idiom.end()) {
                return true;
            }
        }
        return false;
    }

    private RefusalVerdict decide(char[] s, Layout layout, List<Found> found, int unread, String language) {
        boolean cjk = language.equals("zh") || language.equals("ja");
        Found deflect = strongest(found, layout, Role.DEFLECT, Role.CANNED);
        Found refuse = strongest(found, layout, Role.REFUSE);
        if (deflect == null && refuse == null) {
            return RefusalVerdict.none(language);
        }
        double support = support(found, layout, s, cjk);
        if (deflect != null) {
            double score = weightAt(deflect, layout) + support + (refuse != null ? 0.1 : 0);
            return verdict(RefusalKind.DEFLECTION, deflect, layout, score, language);
        }
        int substance = substanceAfter(refuse, found, layout, s) + unread;
        boolean substantive = substance >= (cjk ? SUBSTANCE_CJK : SUBSTANCE_LATIN);
        double score = weightAt(refuse, layout) + support;
        if (!substantive) {
            return verdict(RefusalKind.REFUSAL, refuse, layout, score, language);
        }
        // Declining and then answering at length is a partial answer when the model turns to the
        // answer ("but", "however", "不过") or declines in its very first sentence; otherwise the cue
        // is more likely part of an ordinary answer.
        boolean turns = pivotAfter(refuse, found, layout);
        return verdict(RefusalKind.PARTIAL, refuse, layout, turns || refuse.sentence() == 0 ? score : score * 0.6, language);
    }

    private static RefusalVerdict verdict(RefusalKind kind, Found cue, Layout layout, double score, String language) {
        double bounded = Math.min(1.0, Math.round(score * 100) / 100.0);
        if (bounded < THRESHOLD) {
            return RefusalVerdict.none(language);
        }
        int sentence = cue.sentence();
        int start = layout.sentenceStart[sentence];
        int end = Math.max(layout.sentenceEnd[sentence], cue.end());
        return new RefusalVerdict(kind, start, end, bounded, language, cue.cue().id());
    }

    private static Found strongest(List<Found> found, Layout layout, Role... roles) {
        Found best = null;
        double bestWeight = 0;
        for (Found f : found) {
            if (!hasRole(f, roles) || !early(f, layout)) {
                continue;
            }
            double w = weightAt(f, layout);
            if (w > bestWeight) {
                best = f;
                bestWeight = w;
            }
        }
        return best;
    }

    private static boolean hasRole(Found f, Role... roles) {
        for (Role r : roles) {
            if (f.cue().role() == r) {
                return true;
            }
        }
        return false;
    }

    /** Refusals and topic switches open an answer; a canned deflection counts wherever it appears. */
    private static boolean early(Found f, Layout layout) {
        return f.cue().role() == Role.CANNED || (f.sentence() < EARLY_SENTENCES && f.start() < EARLY_CHARS);
    }

    private static double weightAt(Found f, Layout layout) {
        double position = switch (f.sentence()) {
            case 0 -> 1.0;
            case 1 -> 0.95;
            default -> 0.9;
        };
        return f.cue().weight() * position;
    }

    /** Apologies and policy talk near the start, and closing offers, make a refusal more certain. */
    private static double support(List<Found> found, Layout layout, char[] s, boolean cjk) {
        double apology = 0;
        double offer = 0;
        double policy = 0;
        for (Found f : found) {
            switch (f.cue().role()) {
                case APOLOGY -> apology = f.sentence() < 2 ? f.cue().weight() : apology;
                case OFFER -> offer = f.cue().weight();
                case POLICY -> policy = f.sentence() < EARLY_SENTENCES ? f.cue().weight() : policy;
                default -> { }
            }
        }
        int letters = Layout.letters(s, 0, layout.length);
        double brevity = letters < (cjk ? SHORT_CJK : SHORT_LATIN) ? 0.05 : 0;
        return apology + offer + policy + brevity;
    }

    /**
     * Letters of real content after the refusal: what follows the cue, minus the sentences that
     * only apologise, offer further help, cite rules or switch the topic.
     */
    private static int substanceAfter(Found refuse, List<Found> found, Layout layout, char[] s) {
        boolean[] ceremonial = new boolean[layout.sentences];
        for (Found f : found) {
            Role r = f.cue().role();
            if (f.start() >= refuse.end() && (r == Role.OFFER || r == Role.POLICY || r == Role.DEFLECT || r == Role.CANNED)) {
                ceremonial[f.sentence()] = true;
            }
        }
        int total = 0;
        for (int sentence = refuse.sentence(); sentence < layout.sentences; sentence++) {
            if (ceremonial[sentence]) {
                continue;
            }
            int from = sentence == refuse.sentence() ? refuse.end() : layout.sentenceStart[sentence];
            total += Layout.letters(s, from, layout.sentenceEnd[sentence]);
        }
        return total;
    }

    private static boolean pivotAfter(Found refuse, List<Found> found, Layout layout) {
        for (Found f : found) {
            if (f.cue().role() == Role.PIVOT && f.start() >= refuse.end() && f.sentence() <= refuse.sentence() + 1) {
                return true;
            }
        }
        return false;
    }
}
