package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One of libphonenumber's metadata patterns (number descriptions, formats, leading digits,
 * international and national prefixes), answered by a deterministic automaton over the ten ASCII
 * digits where the pattern is written in the plain subset those patterns use: digits, digit
 * classes ({@code [2-9]}, {@code \d}), groups, alternation and the quantifiers {@code ?},
 * {@code {n}} and {@code {n,m}}. The phone detector asks these patterns about every candidate in
 * each configured region, and the regex engine's backtracking through their long alternations was
 * most of what validating a candidate cost; an automaton reads each digit once.
 *
 * <p>Why the answers are the regex engine's: such a pattern has no look-around, back-reference,
 * possessive quantifier or anchor, so {@code matches()} succeeds exactly when the whole input is
 * in the pattern's language and {@code lookingAt()} exactly when some prefix of it is (the engine
 * backtracks through every alternative and repetition count before it says no). Every atom
 * matches a digit only, so a char that is not one ends every match there. A pattern outside the
 * subset, or whose automaton would exceed {@link #MAX_STATES}, keeps the regex for every answer.
 * {@code DigitPatternTest} compares both answers with the regex's for every pattern of every
 * region's metadata.
 */
final class DigitPattern {

    /** Above this many automaton states the regex answers (none of libphonenumber's patterns comes near it). */
    static final int MAX_STATES = 20_000;

    private final Pattern regex;
    /** State {@code s} reads digit {@code d} into {@code next[s * 10 + d]} (-1: no match can follow); null: the regex answers. */
    private final int[] next;
    private final boolean[] accepting;

    private DigitPattern(Pattern regex, int[] next, boolean[] accepting) {
        this.regex = regex;
        this.next = next;
        this.accepting = accepting;
    }

    static DigitPattern of(String regex) {
        return of(Pattern.compile(regex));
    }

    static DigitPattern of(Pattern regex) {
        Node tree = new Parser(regex.pattern()).parse();
        if (tree != null) {
            Nfa nfa = new Nfa();
            int[] fragment = nfa.build(tree);
            if (fragment != null) {
                DigitPattern compiled = nfa.determinise(regex, fragment[0], fragment[1]);
                if (compiled != null) {
                    return compiled;
                }
            }
        }
        return new DigitPattern(regex, null, null);
    }

    /** The pattern as written (for what only the regex engine answers: groups, where a match ends, hitEnd). */
    Pattern regex() {
        return regex;
    }

    /** Whether an automaton answers (false: the regex does). */
    boolean compiled() {
        return next != null;
    }

    /** {@code regex().matcher(s).matches()}. */
    boolean matches(String s) {
        if (next == null) {
            return regex.matcher(s).matches();
        }
        int state = 0;
        for (int i = 0, n = s.length(); i < n && state >= 0; i++) {
            state = after(state, s.charAt(i));
        }
        return state >= 0 && accepting[state];
    }

    /** {@code regex().matcher(s).lookingAt()}: some prefix of {@code s} (maybe the empty one) matches. */
    boolean lookingAt(String s) {
        if (next == null) {
            return regex.matcher(s).lookingAt();
        }
        int state = 0;
        for (int i = 0, n = s.length(); !accepting[state]; i++) {
            if (i == n || (state = after(state, s.charAt(i))) < 0) {
                return false;
            }
        }
        return true;
    }

    /** The state after reading {@code c} in {@code state}; -1 when no match goes on through it (a dead end, or not a digit). */
    private int after(int state, char c) {
        int d = c - '0';
        return d < 0 || d > 9 ? -1 : next[state * 10 + d];
    }

    /** A pattern's syntax tree: digits (a set of the ten, as bits), a sequence, alternatives, or a bounded repetition. */
    private sealed interface Node {}

    private record Digits(int set) implements Node {}

    private record Sequence(List<Node> parts) implements Node {}

    private record Alternatives(List<Node> options) implements Node {}

    private record Repeat(Node body, int least, int most) implements Node {}

    /** Reads the subset; null for anything outside it (the regex then answers). */
    private static final class Parser {
        private final String p;
        private int i;

        Parser(String p) {
            this.p = p;
        }

        Node parse() {
            Node tree = alternatives();
            return tree != null && i == p.length() ? tree : null;
        }

        private Node alternatives() {
            List<Node> options = new ArrayList<>();
            while (true) {
                Node sequence = sequence();
                if (sequence == null) {
                    return null;
                }
                options.add(sequence);
                if (i < p.length() && p.charAt(i) == '|') {
                    i++;
                } else {
                    return options.size() == 1 ? options.getFirst() : new Alternatives(options);
                }
            }
        }

        private Node sequence() {
            List<Node> parts = new ArrayList<>();
            while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') {
                Node atom = atom();
                if (atom == null) {
                    return null;
                }
                Node quantified = quantified(atom);
                if (quantified == null) {
                    return null;
                }
                parts.add(quantified);
            }
            return new Sequence(parts);
        }

        private Node atom() {
            char c = p.charAt(i++);
            if (c >= '0' && c <= '9') {
                return new Digits(1 << (c - '0'));
            }
            if (c == '\\') {
                return i < p.length() && p.charAt(i++) == 'd' ? new Digits(ALL) : null;
            }
            if (c == '[') {
                return digitClass();
            }
            if (c == '(') {
                if (i < p.length() && p.charAt(i) == '?') {
                    if (!p.startsWith("?:", i)) {
                        return null; // look-around, flags, named or atomic groups
                    }
                    i += 2;
                }
                Node inside = alternatives();
                if (inside == null || i >= p.length() || p.charAt(i) != ')') {
                    return null;
                }
                i++;
                return inside;
            }
            return null; // any other char: a literal that is not a digit, ".", "^", "$", a stray quantifier
        }

        /** A class of digits, ranges of digits and {@code \d}; negation or anything else is outside the subset. */
        private Node digitClass() {
            int set = 0;
            boolean first = true;
            while (i < p.length() && (p.charAt(i) != ']' || first)) {
                char c = p.charAt(i++);
                first = false;
                if (c == '\\') {
                    if (i >= p.length() || p.charAt(i++) != 'd') {
                        return null;
                    }
                    set |= ALL;
                } else if (c >= '0' && c <= '9') {
                    if (i + 1 < p.length() && p.charAt(i) == '-' && p.charAt(i + 1) != ']') {
                        char to = p.charAt(i + 1);
                        if (to < c || to > '9') {
                            return null;
                        }
                        for (char d = c; d <= to; d++) {
                            set |= 1 << (d - '0');
                        }
                        i += 2;
                    } else {
                        set |= 1 << (c - '0');
                    }
                } else {
                    return null; // "^", "[", "&&", a non-digit
                }
            }
            if (i >= p.length()) {
                return null;
            }
            i++; // the "]"
            return new Digits(set);
        }

        private Node quantified(Node atom) {
            if (i >= p.length()) {
                return atom;
            }
            char c = p.charAt(i);
            int least;
            int most;
            if (c == '?') {
                i++;
                least = 0;
                most = 1;
            } else if (c == '{') {
                int close = p.indexOf('}', i);
                if (close < 0) {
                    return null;
                }
                String[] bounds = p.substring(i + 1, close).split(",", -1);
                if (bounds.length > 2 || !isNumber(bounds[0]) || bounds.length == 2 && !isNumber(bounds[1])) {
                    return null; // "{n,}" (no upper bound) is outside the subset too
                }
                least = Integer.parseInt(bounds[0]);
                most = bounds.length == 2 ? Integer.parseInt(bounds[1]) : least;
                if (most < least || most > 64) {
                    return null;
                }
                i = close + 1;
            } else if (c == '*' || c == '+') {
                return null; // unbounded
            } else {
                return atom;
            }
            if (i < p.length()) {
                char after = p.charAt(i);
                if (after == '?') {
                    i++; // reluctant: the same strings match
                } else if (after == '+' || after == '*' || after == '{') {
                    return null; // possessive (cuts backtracking), or a quantifier on a quantifier
                }
            }
            return new Repeat(atom, least, most);
        }

        private static boolean isNumber(String s) {
            return !s.isEmpty() && s.length() <= 3 && s.chars().allMatch(ch -> ch >= '0' && ch <= '9');
        }
    }

    private static final int ALL = (1 << 10) - 1;

    /** A nondeterministic automaton built from the tree (Thompson's construction), then made deterministic. */
    private static final class Nfa {
        /** Per state: the digits it reads (0: none) and the state they lead to; its empty moves. */
        private int[] reads = new int[64];
        private int[] to = new int[64];
        private final List<int[]> empty = new ArrayList<>();
        private int states;

        private int state() {
            if (states == reads.length) {
                reads = Arrays.copyOf(reads, states * 2);
                to = Arrays.copyOf(to, states * 2);
            }
            empty.add(new int[0]);
            return states++;
        }

        private void move(int from, int into) {
            int[] old = empty.get(from);
            int[] grown = Arrays.copyOf(old, old.length + 1);
            grown[old.length] = into;
            empty.set(from, grown);
        }

        /** The fragment for {@code node}: its entry and exit states; null when it grows past the limit. */
        int[] build(Node node) {
            if (states > 4 * MAX_STATES) {
                return null;
            }
            switch (node) {
                case Digits digits -> {
                    int in = state();
                    int out = state();
                    reads[in] = digits.set();
                    to[in] = out;
                    return new int[] {in, out};
                }
                case Sequence sequence -> {
                    int in = state();
                    int at = in;
                    for (Node part : sequence.parts()) {
                        int[] f = build(part);
                        if (f == null) {
                            return null;
                        }
                        move(at, f[0]);
                        at = f[1];
                    }
                    return new int[] {in, at};
                }
                case Alternatives alternatives -> {
                    int in = state();
                    int out = state();
                    for (Node option : alternatives.options()) {
                        int[] f = build(option);
                        if (f == null) {
                            return null;
                        }
                        move(in, f[0]);
                        move(f[1], out);
                    }
                    return new int[] {in, out};
                }
                case Repeat repeat -> {
                    int in = state();
                    int out = state();
                    int at = in;
                    for (int k = 0; k < repeat.most(); k++) {
                        if (k >= repeat.least()) {
                            move(at, out); // enough repetitions: it may stop here
                        }
                        int[] f = build(repeat.body());
                        if (f == null) {
                            return null;
                        }
                        move(at, f[0]);
                        at = f[1];
                    }
                    move(at, out);
                    return new int[] {in, out};
                }
            }
        }

        /** The subset construction from {@code start}, accepting where {@code accept} is reached; null past the limit. */
        DigitPattern determinise(Pattern regex, int start, int accept) {
            // a set is known by the states in it that read a digit, and whether it holds the accepting
            // one: the states that only move on without reading make no difference to what follows
            BitSet kept = new BitSet(states);
            for (int q = 0; q < states; q++) {
                kept.set(q, reads[q] != 0 || q == accept);
            }
            this.kept = kept;
            Map<BitSet, Integer> ids = new HashMap<>();
            List<BitSet> sets = new ArrayList<>();
            BitSet first = closure(single(start));
            ids.put(first, 0);
            sets.add(first);
            int[] next = new int[10 * 64];
            for (int s = 0; s < sets.size(); s++) {
                if (sets.size() > MAX_STATES) {
                    return null;
                }
                BitSet set = sets.get(s);
                for (int d = 0; d < 10; d++) {
                    BitSet target = new BitSet(states);
                    for (int q = set.nextSetBit(0); q >= 0; q = set.nextSetBit(q + 1)) {
                        if ((reads[q] >> d & 1) != 0) {
                            target.set(to[q]);
                        }
                    }
                    int id = -1;
                    if (!target.isEmpty()) {
                        BitSet closed = closure(target);
                        Integer known = ids.get(closed);
                        if (known == null) {
                            known = sets.size();
                            ids.put(closed, known);
                            sets.add(closed);
                        }
                        id = known;
                    }
                    if (s * 10 + d >= next.length) {
                        next = Arrays.copyOf(next, next.length * 2);
                    }
                    next[s * 10 + d] = id;
                }
            }
            boolean[] accepting = new boolean[sets.size()];
            for (int s = 0; s < sets.size(); s++) {
                accepting[s] = sets.get(s).get(accept);
            }
            return new DigitPattern(regex, Arrays.copyOf(next, sets.size() * 10), accepting);
        }

        private BitSet single(int q) {
            BitSet set = new BitSet(states);
            set.set(q);
            return set;
        }

        /** The states a set is known by (see {@link #determinise}). */
        private BitSet kept;

        /** The states reachable from {@code set} by empty moves, the set's own included, that a set is known by. */
        private BitSet closure(BitSet set) {
            BitSet closed = (BitSet) set.clone();
            int[] stack = new int[states];
            int top = 0;
            for (int q = set.nextSetBit(0); q >= 0; q = set.nextSetBit(q + 1)) {
                stack[top++] = q;
            }
            while (top > 0) {
                int q = stack[--top];
                for (int r : empty.get(q)) {
                    if (!closed.get(r)) {
                        closed.set(r);
                        stack[top++] = r;
                    }
                }
            }
            closed.and(kept);
            return closed;
        }
    }
}
