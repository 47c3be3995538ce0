package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Action;
import io.cleargate.moderation.Verdict.Direction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Moderates one response as it streams. Text is released only once no match can still span it:
 * every active rule says where its detector could still start, grow or change a match as more
 * text arrives ({@link Detector#holdFrom}); everything before the earliest such point is final
 * and released at once, and a match that crosses that point holds back everything from its own
 * start, so a growing token or a private key block is never released piecemeal. Ordinary prose
 * is released in the chunk that brought it, except its last word (which could still turn into a
 * token or an address) and whatever a detector is still waiting on.
 *
 * <p>A push rescans the context and the held-back text, unless it only continued a word (letters
 * and digits, fewer than {@link #RESCAN_ALNUM} since the last scan: the word is held anyway while
 * it could grow into a token). A long hold-back (a key block waiting for its END line) is
 * rescanned only once it has grown by a quarter since the last scan, so the total scanning stays
 * linear in the length of the stream. Text is still released only by a scan
 * that covered it and everything after it received so far; skipping a scan only delays release.
 *
 * <p>Each rescan begins its detectors' searches where a scan of the whole text would be at that
 * point ({@link Searches}), not at the start of the context: a search moves on from each
 * candidate's end, so one begun elsewhere can tile a run of key chars differently and release
 * what whole text redacts.
 *
 * <p>A non-streamed response goes through the same code, as {@linkplain #wholeText whole text}:
 * nothing of it reaches the client before its end anyway, so its chunks are only collected and the
 * end-of-stream push scans everything once, exactly as a whole-text scan would, with no release
 * point to work out. Per-request state; used by one thread at a time.
 */
final class StreamModerator {

    /** What one push releases: moderated text, and the finding that blocked the response, if any. */
    record Step(String text, Finding blocked) {}

    private static final int CONTEXT = 64;
    /** An address's local part is at most 64 chars; with the char before it and one to spare. */
    private static final int SQUEEZED_CONTEXT = 66;
    /** A held-back text is rescanned once the chars received since the last scan reach 1/GROWTH of it. */
    static final int RESCAN_GROWTH = 4;
    /**
     * A chunk of letters and digits only continues the last word, which is held anyway while it
     * could still grow into a token; such chunks are buffered until this many have come.
     */
    static final int RESCAN_ALNUM = 16;

    private final RuleSet rules;
    private final Placeholders placeholders;
    private final String field;
    /** Collect every chunk and scan once at the end (a non-streamed response): no hold-back to compute. */
    private final boolean wholeText;
    private final StringBuilder pending = new StringBuilder();
    private final List<Verdict> verdicts = new ArrayList<>();
    private final List<Finding> findings = new ArrayList<>();
    private final Searches searches = new Searches();
    private String context = "";
    private int pendingBase;
    private boolean ended;
    private int sinceScan;
    private int alnumSinceScan = RESCAN_ALNUM;

    StreamModerator(RuleSet rules, Placeholders placeholders) {
        this(rules, placeholders, null);
    }

    /** @param field what this stream is when it is not the completion's text, for example tool_calls[0].arguments */
    StreamModerator(RuleSet rules, Placeholders placeholders, String field) {
        this(rules, placeholders, field, false);
    }

    /**
     * @param wholeText true for a response nothing of which goes out before its end (not streamed):
     *                  pushes before the end-of-stream one release nothing and scan nothing
     */
    StreamModerator(RuleSet rules, Placeholders placeholders, String field, boolean wholeText) {
        this.rules = rules;
        this.placeholders = placeholders;
        this.field = field;
        this.wholeText = wholeText;
    }

    String field() {
        return field;
    }

    /** How many chars of the original text have been released (or dropped) so far. */
    int released() {
        return pendingBase;
    }

    boolean ended() {
        return ended;
    }

    List<Verdict> verdicts() {
        return List.copyOf(verdicts);
    }

    /** Findings behind the verdicts, with absolute offsets (for explain mode). */
    List<Finding> findings() {
        return List.copyOf(findings);
    }

    RuleSet rules() {
        return rules;
    }

    Step push(String text, boolean endOfStream) {
        if (ended) {
            return new Step("", null);
        }
        pending.append(text);
        if ((wholeText || pending.isEmpty()) && !endOfStream) {
            return new Step("", null);
        }
        sinceScan += text.length();
        alnumSinceScan = endsWord(text) ? RESCAN_ALNUM : alnumSinceScan + text.length();
        if (!endOfStream && ((long) sinceScan * RESCAN_GROWTH < pending.length() || alnumSinceScan < RESCAN_ALNUM)) {
            return new Step("", null);
        }
        sinceScan = 0;
        alnumSinceScan = 0;
        String scanText = context + pending;
        if (!endOfStream && Character.isHighSurrogate(scanText.charAt(scanText.length() - 1))) {
            // Its pair may still come and fold into a letter of a secret: until then the text
            // ends before it, so whatever it could continue stays open.
            scanText = scanText.substring(0, scanText.length() - 1);
        }
        int ctx = context.length();
        searches.begin(pendingBase - ctx);
        NormalizedText normalized = NormalizedText.of(scanText).resuming(searches);
        RuleSet.Scan scan = rules.scan(normalized, Direction.OUTPUT);
        int release = endOfStream ? scanText.length() : releasePoint(normalized, scan.raw(), ctx);

        List<Finding> committed = new ArrayList<>();
        Finding block = null;
        for (Finding f : scan.findings()) {
            if (f.start() >= ctx && f.end() <= release) {
                committed.add(f);
                if (f.action() == Action.BLOCK && (block == null || f.start() < block.start())) {
                    block = f;
                }
            }
        }
        int until = block == null ? release : block.start();
        String out = Redaction.apply(scanText, ctx, until, committed, placeholders);
        int delta = pendingBase - ctx;
        for (Finding f : committed) {
            if (block == null || f.start() < block.start() || f == block) {
                findings.add(f.shifted(delta));
                verdicts.add(verdict(f, delta));
            }
        }
        if (block != null || endOfStream) {
            ended = true;
            pendingBase += pending.length();
            pending.setLength(0);
            return new Step(out, block == null ? null : block.shifted(delta));
        }
        searches.settle(release);
        context = scanText.substring(contextStart(normalized, release), release);
        pending.delete(0, release - ctx);
        pendingBase += release - ctx;
        return new Step(out, null);
    }

    /**
     * Where the text kept before the next scan begins: the last {@link #CONTEXT} chars released,
     * and at least the last {@link #SQUEEZED_CONTEXT} chars of the compact view. A squeezed e-mail
     * address reads its whole local part from where the run began, though its span (and so the
     * hold-back) may start later; with its start released, the next scan must still see that run
     * and the char before it to find the same address.
     */
    private static int contextStart(NormalizedText normalized, int release) {
        int start = Math.max(0, release - CONTEXT);
        View compact = normalized.compact();
        int k = compact.countBefore(release);
        return Math.min(start, k > SQUEEZED_CONTEXT ? compact.originalStart(k - SQUEEZED_CONTEXT) : 0);
    }

    /** Whether the chunk has anything but letters and digits (so a word may have ended in it). */
    private static boolean endsWord(String chunk) {
        for (int i = 0; i < chunk.length(); i++) {
            if (!Character.isLetterOrDigit(chunk.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private int releasePoint(NormalizedText normalized, List<Match> raw, int ctx) {
        int release = rules.holdFrom(normalized, ctx);
        // A match crossing the release point goes out whole or not at all; by start, latest
        // first, one pass settles chains of overlapping matches.
        List<Match> byStart = new ArrayList<>(raw);
        byStart.sort(Comparator.comparingInt(Match::start).reversed());
        for (Match m : byStart) {
            if (m.start() >= ctx && m.start() < release && m.end() > release) {
                release = m.start();
            }
        }
        // Never split a surrogate pair.
        if (release > ctx && Character.isHighSurrogate(normalized.original.charAt(release - 1))) {
            release--;
        }
        return release;
    }

    private Verdict verdict(Finding f, int delta) {
        return new Verdict(f.rule().id(), f.rule().category(), f.action(), Direction.OUTPUT, f.start() + delta,
                f.end() + delta, f.match().score(), field);
    }
}
