package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Heuristics for prompt injection and system-prompt extraction: phrasings that try to override
 * earlier instructions, switch the model into an "unrestricted" persona, fake a system turn, or
 * ask for the hidden instructions. Each heuristic is matched twice: on the lower-case view with
 * any short run of separators between words, and on the letters-only view, so "i-g-n-o-r-e" and
 * "ignorepreviousinstructions" are caught too. Heuristics are signals, not proof: profiles
 * usually flag rather than block them.
 */
final class InjectionDetector implements Detector {

    record Heuristic(String name, String words, double score) {}

    /** Word templates: "_" stands for a separator between words. */
    static final List<Heuristic> INJECTION = List.of(
            new Heuristic("override-instructions",
                    "(ignore|disregard|forget|override|bypass|skip)_(all_|any_|the_|your_|my_)?(previous|prior|above|earlier|preceding|former|original|initial)_(instructions?|prompts?|rules|directions|guidelines|context|messages?)", 0.9),
            new Heuristic("override-everything",
                    "(ignore|disregard|forget)_(everything|all)_(you_were_told|above|before|previously)", 0.85),
            new Heuristic("persona-unrestricted",
                    "(you_are_now|act_as|pretend_to_be|from_now_on_you_are)_(an?_)?(dan|unrestricted|unfiltered|uncensored|jailbroken|evil)", 0.85),
            new Heuristic("do-anything-now", "do_anything_now", 0.8),
            new Heuristic("developer-mode", "(enable|enter|activate)_(developer|god|debug|jailbreak)_mode", 0.8),
            new Heuristic("no-restrictions",
                    "(without|no|ignore_(all|your))_(any_)?(restrictions|filters|guardrails|safety_guidelines|content_policy)", 0.6),
            new Heuristic("new-instructions", "(new|updated|real)_(system_)?instructions_(are|follow)", 0.6));

    static final List<Heuristic> EXTRACTION = List.of(
            new Heuristic("reveal-system-prompt",
                    "(reveal|show|print|repeat|output|display|tell_me|give_me|leak|dump|write_out|what_(is|are|was|were))_(me_)?(your|the)_(full_|exact_|original_|hidden_|secret_|initial_)?(system|hidden|initial|original|secret)_(prompt|instructions?|message|rules)", 0.9),
            new Heuristic("repeat-above", "(repeat|print|output)_(the_)?(words|text|everything)_(above|before)(_this)?", 0.75),
            new Heuristic("instructions-verbatim", "(instructions|prompt)_(verbatim|word_for_word)", 0.75),
            new Heuristic("fake-system-turn", "(<_?/?_?system_?>|\\[_?inst_?\\]|#{2,}_?system|<\\|im_start\\|>_?system)", 0.7));

    /** Every built-in heuristic, injection first: the owners of the shared word pass. */
    private static final List<Heuristic> ALL = java.util.stream.Stream.concat(INJECTION.stream(), EXTRACTION.stream()).toList();
    /** Per heuristic (in {@link #ALL}): its anchor words and how far before one a match can start; null for none. */
    private static final List<Anchor> ANCHORS = ALL.stream()
            .map(h -> h.name().equals("fake-system-turn") ? null : anchorOf(h.words())).toList();
    /**
     * Every word a heuristic's gate asks for, and every heuristic's anchor words, found for both
     * detectors in one pass per view.
     */
    private static final HeuristicWords WORDS = new HeuristicWords(
            java.util.stream.Stream.concat(ALL.stream().flatMap(h -> requiredOf(h).stream()).flatMap(List::stream),
                    ANCHORS.stream().filter(java.util.Objects::nonNull).flatMap(a -> a.words().stream())).distinct().toList(),
            ANCHORS.stream().map(a -> a == null ? List.<String>of() : a.words()).toList());
    /** Per heuristic (in {@link #ALL}): its gate's groups, as indexes into {@link #WORDS}. */
    private static final List<List<int[]>> GATES = ALL.stream().map(InjectionDetector::gateOf).toList();
    private static final Object ANY_GATE = new Object();
    private static final Object LOWER_WORDS = new Object();
    private static final Object ALNUM_WORDS = new Object();

    private static List<List<String>> requiredOf(Heuristic h) {
        // Not a word template, but every fake system turn spells out "system" or "inst".
        return h.name().equals("fake-system-turn") ? List.of(List.of("system", "inst")) : requiredWords(h.words());
    }

    private static List<int[]> gateOf(Heuristic h) {
        return requiredOf(h).stream().map(group -> group.stream().mapToInt(WORDS.words()::indexOf).toArray()).toList();
    }

    private final String type;
    private final String category;
    private final List<Pattern> onLower = new ArrayList<>();
    private final List<Pattern> onAlnum = new ArrayList<>();
    private final List<OpenMatch> lowerOpen = new ArrayList<>();
    private final List<OpenMatch> alnumOpen = new ArrayList<>();
    /** Per heuristic: the leading words of its first part, where its matches start (in both views). */
    private final List<Starts.Literals> starts = new ArrayList<>();
    private final List<Heuristic> heuristics;
    /** Per heuristic: literal groups every match contains one word of, in both views, as indexes into {@link #WORDS}. */
    private final List<List<int[]>> requiredIndex = new ArrayList<>();
    /** Where this detector's heuristics stand in {@link #ALL}. */
    private final int offset;

    private InjectionDetector(String type, String category, List<Heuristic> heuristics) {
        this.type = type;
        this.category = category;
        this.heuristics = heuristics;
        for (Heuristic h : heuristics) {
            onLower.add(CharClasses.compile(lowerRegex(h)));
            onAlnum.add(h.name().equals("fake-system-turn") ? null : Pattern.compile(h.words().replace("_", "")));
            requiredIndex.add(gateOf(h));
            List<String> leading = h.name().equals("fake-system-turn") ? List.of("<", "[", "#") : leadingWords(h.words());
            if (leading == null) {
                throw new IllegalArgumentException(h.name() + " has no leading words");
            }
            starts.add(new Starts.Literals(leading));
            lowerOpen.add(new OpenMatch(onLower.getLast()));
            alnumOpen.add(onAlnum.getLast() == null ? null : new OpenMatch(onAlnum.getLast()));
        }
        this.offset = ALL.indexOf(heuristics.getFirst());
        if (!ALL.subList(offset, offset + heuristics.size()).equals(heuristics)) {
            throw new IllegalArgumentException("heuristics must be one of the built-in lists");
        }
    }

    /** The template's "#" run as the template expands it: backtracks over every "#" of a run from every start. */
    static final String HASH_RUN = "#{2,}[^a-z0-9]{1,3}?system";
    /**
     * The same language and the same spans in linear time: a match starts only at the first "#"
     * of a run (or the second, when a letter or digit stands before the run), where the template
     * would also start, and the run is consumed once. Two "#" need a separator before "system",
     * three or more need none, and at most three separators follow the run.
     */
    static final String HASH_RUN_LINEAR = "(?:(?<!#)|(?<=[a-z0-9]#))#(?:#{2,}+[^a-z0-9]{0,3}|#[^a-z0-9]{1,3})system";

    /** The regex for the lower-case view: "_" becomes a run of one to three separators. */
    static String lowerRegex(Heuristic h) {
        String regex = "(?<![a-z0-9])" + h.words().replace("_", "[^a-z0-9]{1,3}");
        return regex.replace(HASH_RUN, HASH_RUN_LINEAR);
    }

    /**
     * The cheap pre-filter for a word template: for each mandatory top-level part, the set of
     * leading literal words of its alternatives. Words never contain a separator, so every match,
     * on the lower-case view and on the letters-only view alike, contains at least one word of
     * each set; a text lacking all words of one set cannot match and the regex is skipped. A part
     * that is optional or not plain words is left out (that only makes the filter looser).
     */
    static List<List<String>> requiredWords(String template) {
        List<List<String>> groups = new ArrayList<>();
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c == '_') {
                i++;
            } else if (c == '(') {
                int close = closingParen(template, i);
                if (close < 0) {
                    return List.of();
                }
                boolean optional = close + 1 < template.length() && "?*{".indexOf(template.charAt(close + 1)) >= 0;
                List<String> words = optional ? null : alternativeWords(template.substring(i + 1, close));
                if (words != null) {
                    groups.add(words);
                }
                i = close + 1;
                if (optional) {
                    i++;
                }
            } else if (c >= 'a' && c <= 'z') {
                int end = i;
                while (end < template.length() && template.charAt(end) >= 'a' && template.charAt(end) <= 'z') {
                    end++;
                }
                String word = literalBefore(template, i, end);
                if (word.length() > 0) {
                    groups.add(List.of(word));
                }
                i = end;
            } else {
                return List.of(); // not plain words: no pre-filter at all
            }
        }
        return groups;
    }

    /**
     * Where a word template's matches start: the leading words of its first part's alternatives
     * (a match begins with one of them, after the look-behind on the lower-case view and
     * directly on the letters-only view), or every position when the first part has none.
     */
    static List<String> leadingWords(String template) {
        List<String> words = null;
        if (template.startsWith("(")) {
            int close = closingParen(template, 0);
            boolean optional = close + 1 < template.length() && "?*{".indexOf(template.charAt(close + 1)) >= 0;
            if (close > 0 && !optional) {
                words = alternativeWords(template.substring(1, close));
            }
        } else {
            int end = 0;
            while (end < template.length() && template.charAt(end) >= 'a' && template.charAt(end) <= 'z') {
                end++;
            }
            String word = literalBefore(template, 0, end);
            words = word.isEmpty() ? null : List.of(word);
        }
        return words;
    }

    private static int closingParen(String t, int open) {
        int depth = 0;
        for (int k = open; k < t.length(); k++) {
            if (t.charAt(k) == '(') {
                depth++;
            } else if (t.charAt(k) == ')' && --depth == 0) {
                return k;
            }
        }
        return -1;
    }

    /** The leading word of each top-level alternative, or null when one has none. */
    private static List<String> alternativeWords(String body) {
        List<String> words = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int k = 0; k <= body.length(); k++) {
            char c = k < body.length() ? body.charAt(k) : '|';
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == '|' && depth == 0) {
                int end = start;
                while (end < k && body.charAt(end) >= 'a' && body.charAt(end) <= 'z') {
                    end++;
                }
                String word = literalBefore(body, start, end);
                if (word.isEmpty()) {
                    return null;
                }
                words.add(word);
                start = k + 1;
            }
        }
        return words;
    }

    /** Letters {@code t[start, end)}, minus the last one when a quantifier follows it ("prompts?"). */
    private static String literalBefore(String t, int start, int end) {
        if (end < t.length() && "?*{".indexOf(t.charAt(end)) >= 0) {
            end--;
        }
        return end > start ? t.substring(start, end) : "";
    }

    static InjectionDetector injection() {
        return new InjectionDetector("injection", "injection.prompt", INJECTION);
    }

    static InjectionDetector extraction() {
        return new InjectionDetector("system_prompt_extraction", "injection.system_prompt_extraction", EXTRACTION);
    }

    /**
     * Per heuristic: the lower-case view's regex, the letters-only view's (or null) and where the
     * scan tries each on a text of that view.
     */
    record Tried(Heuristic heuristic, Pattern onLower, Pattern onAlnum, Starts lowerStarts, Starts alnumStarts) {}

    List<Tried> tried() {
        List<Tried> all = new ArrayList<>();
        for (int i = 0; i < heuristics.size(); i++) {
            int h = i;
            all.add(new Tried(heuristics.get(i), onLower.get(i), onAlnum.get(i),
                    text -> startsOn(h, text, WORDS.find(text, true), false).open(text),
                    text -> startsOn(h, text, WORDS.find(text), true).open(text)));
        }
        return all;
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
        return "REMOVED";
    }


    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        // A word of a gate on the lower-case view (letters at a word start) stands in the letters-only
        // view too: the same letters, with nothing between them dropped. So when no heuristic's gate
        // passes on the letters-only view, none passes on either view and nothing can match; that is
        // answered from the clean view's chars, without building either view or running either pass.
        if (!text.memo(ANY_GATE, () -> WORDS.anyGatePasses(text.cleanChars(), text.clean.length(), GATES))) {
            return;
        }
        View lower = text.lower();
        View alnum = text.alnum(); // every heuristic but the fake system turn is tried on it
        HeuristicWords.Found inAlnum = text.memo(ALNUM_WORDS, () -> alnum.chars() != null
                ? WORDS.find(alnum.chars(), alnum.text, false) : WORDS.find(alnum.text));
        // The lower-case view's words from the letters-only pass: its anchors exactly, its gates
        // from a superset of its words (HeuristicWords.atWordStarts), without a pass over every char.
        HeuristicWords.Found inLower = text.memo(LOWER_WORDS, () -> {
            char[] chars = lower.chars() != null ? lower.chars() : lower.text.toCharArray();
            return WORDS.atWordStarts(inAlnum, chars, lower.length(), text::lowerIndexOfAlnum);
        });
        for (int i = 0; i < heuristics.size(); i++) {
            Heuristic h = heuristics.get(i);
            if (passes(requiredIndex.get(i), inLower)) {
                find(lowerOpen.get(i), startsOn(i, lower.text, inLower, false), lower, h, 1.0, sink);
            }
            if (onAlnum.get(i) == null) {
                continue;
            }
            if (passes(requiredIndex.get(i), inAlnum)) {
                find(alnumOpen.get(i), startsOn(i, alnum.text, inAlnum, true), alnum, h, 0.9, sink);
            }
        }
    }

    /** The gate: some word of every required group occurs in the view. */
    private static boolean passes(List<int[]> groups, HeuristicWords.Found found) {
        for (int[] words : groups) {
            boolean any = false;
            for (int w : words) {
                if (found.present(w)) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    /**
     * Where heuristic {@code i}'s regex is tried on a view: where one of its leading words occurs at
     * most {@link Anchor#before} chars before one of its anchor words (every match has an anchor
     * word that far into it). Without anchor words (the fake system turn), at every leading word.
     */
    private Starts startsOn(int i, String view, HeuristicWords.Found found, boolean alnum) {
        Anchor anchor = ANCHORS.get(offset + i);
        if (anchor == null) {
            return starts.get(i);
        }
        return Starts.at(windowStarts(view, found.anchors(offset + i), found.anchorCount(offset + i), anchor.before(alnum),
                starts.get(i)));
    }

    /**
     * The positions where one of {@code leading} occurs within {@code before} chars before one of
     * the first {@code count} {@code anchors} (ascending).
     */
    static int[] windowStarts(String view, int[] anchors, int count, int before, Starts.Literals leading) {
        int[] out = new int[8];
        int k = 0;
        int next = 0;
        for (int j = 0; j < count; j++) {
            int a = anchors[j];
            for (int p = Math.max(next, a - before); p <= a; p++) {
                if (leading.hasWordAt(view, p)) {
                    if (k == out.length) {
                        out = java.util.Arrays.copyOf(out, k * 2);
                    }
                    out[k++] = p;
                }
            }
            next = a + 1;
        }
        return java.util.Arrays.copyOf(out, k);
    }

    /**
     * A heuristic's anchor: the words of one of its required parts (every match holds one of them
     * where that part begins) and the most chars a match can have before that part, on the
     * lower-case view (a separator is up to three chars) and on the letters-only view (none).
     */
    record Anchor(List<String> words, int beforeOnLower, int beforeOnAlnum) {
        int before(boolean alnum) {
            return alnum ? beforeOnAlnum : beforeOnLower;
        }
    }

    /**
     * The anchor of a word template: of its required parts whose words all have three letters or
     * more, the one whose shortest word is longest (longer words occur less often by chance); the
     * earliest of equals, whose window before it is shortest.
     */
    static Anchor anchorOf(String template) {
        Anchor best = null;
        int bestShortest = 0;
        int lower = 0;
        int alnum = 0;
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            List<String> words = null;
            int next;
            int lowerLength;
            int alnumLength;
            if (c == '_') {
                next = i + 1;
                lowerLength = 3;
                alnumLength = 0;
            } else if (c == '(') {
                int close = closingParen(template, i);
                boolean optional = close + 1 < template.length() && template.charAt(close + 1) == '?';
                if (close < 0 || close + 1 < template.length() && "*{+".indexOf(template.charAt(close + 1)) >= 0) {
                    throw new IllegalArgumentException("unbounded part in " + template);
                }
                words = optional ? null : alternativeWords(template.substring(i + 1, close));
                lowerLength = maxLength(template, i + 1, close, true);
                alnumLength = maxLength(template, i + 1, close, false);
                next = close + 1 + (optional ? 1 : 0);
            } else if (c >= 'a' && c <= 'z') {
                int end = i;
                while (end < template.length() && template.charAt(end) >= 'a' && template.charAt(end) <= 'z') {
                    end++;
                }
                String word = literalBefore(template, i, end);
                words = word.isEmpty() ? null : List.of(word);
                lowerLength = end - i;
                alnumLength = end - i;
                next = end < template.length() && template.charAt(end) == '?' ? end + 1 : end;
            } else {
                throw new IllegalArgumentException("not a word template: " + template);
            }
            if (words != null) {
                int shortest = words.stream().mapToInt(String::length).min().orElse(0);
                if (shortest >= 3 && shortest > bestShortest) {
                    best = new Anchor(words, lower, alnum);
                    bestShortest = shortest;
                }
            }
            lower += lowerLength;
            alnum += alnumLength;
            i = next;
        }
        if (best == null) {
            throw new IllegalArgumentException("no anchor words in " + template);
        }
        return best;
    }

    /** The most chars {@code template[from, to)} (alternatives, groups, "?", "_") can match on one view. */
    private static int maxLength(String template, int from, int to, boolean lowerView) {
        int best = 0;
        int current = 0;
        for (int k = from; k < to; k++) {
            char c = template.charAt(k);
            if (c == '|') {
                best = Math.max(best, current);
                current = 0;
            } else if (c == '(') {
                int close = closingParen(template, k);
                current += maxLength(template, k + 1, close, lowerView);
                k = close;
            } else if (c == '_') {
                current += lowerView ? 3 : 0;
            } else if (c >= 'a' && c <= 'z') {
                current++;
            } else if (c != '?') { // what "?" makes optional still counts at its longest
                throw new IllegalArgumentException("not a word template: " + template);
            }
        }
        return Math.max(best, current);
    }

    @Override
    public int holdFrom(NormalizedText text, int from) {
        View lower = text.lower();
        View alnum = text.alnum();
        int lowerFrom = lower.countBefore(from);
        int alnumFrom = alnum.countBefore(from);
        int hold = text.original.length();
        for (int i = 0; i < heuristics.size(); i++) {
            hold = Math.min(hold, OpenMatch.original(lower, text, lowerOpen.get(i).from(lower.text, lowerFrom)));
            if (alnumOpen.get(i) != null) {
                hold = Math.min(hold, OpenMatch.original(alnum, text, alnumOpen.get(i).from(alnum.text, alnumFrom)));
            }
        }
        return hold;
    }

    private static void find(OpenMatch p, Starts starts, View view, Heuristic h, double weight, Consumer<Match> sink) {
        p.find(view.text, 0, (s, e) -> {
            if (e > s) { // a template never matches empty
                sink.accept(new Match(view.originalStart(s), view.originalEnd(e - 1), h.score() * weight,
                        view.name, "heuristic " + h.name(), view.text.substring(s, e)));
            }
        }, starts);
    }
}
