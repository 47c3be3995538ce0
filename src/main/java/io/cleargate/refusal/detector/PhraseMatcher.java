package io.cleargate.refusal.detector;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Aho-Corasick automaton over lower-cased phrases: one pass over the text finds every occurrence
 * of every phrase, so the cost is linear in the text plus the number of matches, whatever the
 * size of the lexicon. Transitions are kept as sorted char arrays per state (binary search), which
 * is compact enough for a few thousand phrases. Immutable after construction; thread-safe.
 */
final class PhraseMatcher<T> {

    /** One occurrence: [start, end) in the scanned text and the phrase's payload. */
    record Hit<T>(int start, int end, T payload) {}

    /** Chars below this have their root transition in {@link #rootNext}: ASCII and Latin-1. */
    private static final int ROOT_DENSE = 0x100;

    private final char[][] edgeChars;
    private final int[][] edgeTargets;
    /**
     * The root's transition per char below {@link #ROOT_DENSE} (-1: none), as the binary search
     * finds it: nearly every char of a text is looked up at the root (where the automaton starts
     * again after each failed match), whose edges are the first chars of every phrase, so that
     * search was half the detector's time.
     */
    private final int[] rootNext = new int[ROOT_DENSE];
    private final int[] fail;
    private final int[][] outputs; // payload indexes ending at each state (own plus via fail links)
    private final int[] lengths;    // phrase length per payload index
    private final List<T> payloads;

    PhraseMatcher(Map<String, T> phrases) {
        List<Map<Character, Integer>> trie = new ArrayList<>();
        List<List<Integer>> out = new ArrayList<>();
        trie.add(new HashMap<>());
        out.add(new ArrayList<>());
        payloads = new ArrayList<>();
        List<Integer> lens = new ArrayList<>();
        for (var e : phrases.entrySet()) {
            int state = 0;
            for (char c : e.getKey().toCharArray()) {
                Integer next = trie.get(state).get(c);
                if (next == null) {
                    next = trie.size();
                    trie.add(new HashMap<>());
                    out.add(new ArrayList<>());
                    trie.get(state).put(c, next);
                }
                state = next;
            }
            out.get(state).add(payloads.size());
            payloads.add(e.getValue());
            lens.add(e.getKey().length());
        }
        int n = trie.size();
        edgeChars = new char[n][];
        edgeTargets = new int[n][];
        for (int s = 0; s < n; s++) {
            char[] cs = new char[trie.get(s).size()];
            int i = 0;
            for (char c : trie.get(s).keySet()) {
                cs[i++] = c;
            }
            Arrays.sort(cs);
            int[] ts = new int[cs.length];
            for (int j = 0; j < cs.length; j++) {
                ts[j] = trie.get(s).get(cs[j]);
            }
            edgeChars[s] = cs;
            edgeTargets[s] = ts;
        }
        for (char c = 0; c < ROOT_DENSE; c++) {
            rootNext[c] = search(0, c);
        }
        fail = new int[n];
        buildFailLinks(out);
        outputs = new int[n][];
        for (int s = 0; s < n; s++) {
            outputs[s] = out.get(s).stream().mapToInt(Integer::intValue).toArray();
        }
        lengths = lens.stream().mapToInt(Integer::intValue).toArray();
    }

    private void buildFailLinks(List<List<Integer>> out) {
        int[] queue = new int[fail.length];
        int head = 0;
        int tail = 0;
        for (int t : edgeTargets[0]) {
            fail[t] = 0;
            queue[tail++] = t;
        }
        while (head < tail) {
            int s = queue[head++];
            for (int i = 0; i < edgeChars[s].length; i++) {
                char c = edgeChars[s][i];
                int t = edgeTargets[s][i];
                int f = fail[s];
                while (f != 0 && step(f, c) < 0) {
                    f = fail[f];
                }
                int ft = step(f, c);
                fail[t] = ft >= 0 && ft != t ? ft : 0;
                out.get(t).addAll(out.get(fail[t]));
                queue[tail++] = t;
            }
        }
    }

    private int step(int state, char c) {
        return state == 0 && c < ROOT_DENSE ? rootNext[c] : search(state, c);
    }

    private int search(int state, char c) {
        int i = Arrays.binarySearch(edgeChars[state], c);
        return i >= 0 ? edgeTargets[state][i] : -1;
    }

    /** Every occurrence in {@code text[0, limit)}, ordered by end offset. */
    List<Hit<T>> scan(char[] text, int limit) {
        List<Hit<T>> hits = new ArrayList<>();
        int state = 0;
        for (int i = 0; i < limit; i++) {
            char c = text[i];
            int next;
            while ((next = step(state, c)) < 0 && state != 0) {
                state = fail[state];
            }
            state = Math.max(next, 0);
            for (int p : outputs[state]) {
                hits.add(new Hit<>(i + 1 - lengths[p], i + 1, payloads.get(p)));
            }
        }
        return hits;
    }
}
