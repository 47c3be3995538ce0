package io.cleargate.moderation;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Where each of a streamed response's searches resumes. A detector's search is a chain: it finds
 * the leftmost candidate, then searches again from that candidate's end (as
 * {@link java.util.regex.Matcher#find()} does), so what it finds further on depends on where the
 * previous candidate ended. For a pattern without a boundary (a fixed-length key read in the
 * squeezed view, where "A K I A " repeated is one long run of key chars) the candidates tile a
 * run from wherever the search began. Whole text begins at the start; a stream rescans from a
 * context that begins somewhere in the released text, and a chain begun there tiles the run
 * differently, so a candidate that starts in the context and ends past it hides key-shaped text
 * that whole text redacts. So every such search resumes where the whole text's search would be
 * at that point: after the last candidate that started in released text, or at the release point
 * when none reaches past it (every attempt before the release point is final, or the filter
 * would have held it back).
 *
 * <p>Candidates are recorded before they are scored: a rejected candidate moves the chain too.
 * Offsets are absolute (from the start of the response), in original chars. Per stream; used by
 * one thread at a time.
 */
final class Searches {

    /** One search's position, and the candidates found by the current scan (absolute start, end pairs). */
    private static final class Chain {
        int resume;
        int[] spans = new int[8];
        int count;
    }

    private final Map<Object, Chain> chains = new IdentityHashMap<>();
    /** Where the current scan's text starts. */
    private int base;
    /** Everything before this was released: no chain resumes before it. */
    private int floor;

    /** A scan of the text from {@code base} on (absolute) begins. */
    void begin(int base) {
        this.base = base;
    }

    /** The view index where the search {@code key} resumes in the current scan's {@code view}. */
    int from(Object key, View view) {
        Chain chain = chains.computeIfAbsent(key, k -> new Chain());
        int resume = Math.max(chain.resume, floor) - base;
        return resume <= 0 ? 0 : view.countBefore(resume);
    }

    /** The search {@code key} found the candidate [s, e) of {@code view} (view indices). */
    void found(Object key, View view, int s, int e) {
        if (e <= s) {
            return; // an empty match moves the search one char on, never past the release point
        }
        Chain chain = chains.computeIfAbsent(key, k -> new Chain());
        if (chain.count * 2 == chain.spans.length) {
            chain.spans = java.util.Arrays.copyOf(chain.spans, chain.spans.length * 2);
        }
        chain.spans[chain.count * 2] = base + view.originalStart(s);
        chain.spans[chain.count * 2 + 1] = base + view.originalEnd(e - 1);
        chain.count++;
    }

    /**
     * The scan released everything before {@code release} (relative to the scan's text): each
     * search resumes after the last candidate that started before it, and never before it.
     */
    void settle(int release) {
        int at = base + release;
        floor = Math.max(floor, at);
        for (Chain chain : chains.values()) {
            for (int i = 0; i < chain.count; i++) {
                if (chain.spans[i * 2] < at) {
                    chain.resume = Math.max(chain.resume, chain.spans[i * 2 + 1]);
                }
            }
            chain.count = 0;
        }
    }
}
