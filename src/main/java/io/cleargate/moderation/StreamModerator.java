package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Action;
import io.cleargate.moderation.Verdict.Direction;
import java.util.ArrayList;
import java.util.List;

/**
 * Moderates one response as it streams. Text is released only once no match can still span it:
 * the last {@code window} letters and digits are always held back (the window is at least as long
 * as the longest text any active rule needs to see), and a match that reaches into that held-back
 * tail also holds back everything from its own start, so a growing token or a private key block
 * is never released piecemeal. Counting letters and digits, not chars, keeps the guarantee when
 * an attacker pads a secret with zero-width or whitespace characters.
 *
 * <p>Scanning is the expensive part and each scan covers the whole hold-back window, so a push
 * that adds fewer than {@link #RESCAN_ALNUM} letters and digits (and fewer than
 * {@link #RESCAN_CHARS} chars) is only buffered: it releases nothing and leaves the decision to
 * the next scan. Safety does not depend on this: text is released only by a scan that covered
 * it and everything after it received so far, exactly as before; skipping only delays release.
 *
 * <p>A non-streamed response goes through the same code: it is one text chunk and the
 * end-of-stream chunk. Per-request state; used by one thread at a time.
 */
final class StreamModerator {

    /** What one push releases: moderated text, and the finding that blocked the response, if any. */
    record Step(String text, Finding blocked) {}

    private static final int CONTEXT = 64;
    /** Letters and digits that must arrive before the window is scanned again (token-sized chunks are ~3). */
    static final int RESCAN_ALNUM = 16;
    /** Chars after which a scan runs anyway, so separator-only padding cannot make the buffer grow unscanned. */
    static final int RESCAN_CHARS = 256;

    private final RuleSet rules;
    private final Placeholders placeholders;
    private final String field;
    private final StringBuilder pending = new StringBuilder();
    private final List<Verdict> verdicts = new ArrayList<>();
    private final List<Finding> findings = new ArrayList<>();
    private String context = "";
    private int pendingBase;
    private boolean ended;
    private int alnumSinceScan;
    private int charsSinceScan;

    StreamModerator(RuleSet rules, Placeholders placeholders) {
        this(rules, placeholders, null);
    }

    /** @param field what this stream is when it is not the completion's text, for example tool_calls[0].arguments */
    StreamModerator(RuleSet rules, Placeholders placeholders, String field) {
        this.rules = rules;
        this.placeholders = placeholders;
        this.field = field;
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
        if (pending.isEmpty() && !endOfStream) {
            return new Step("", null);
        }
        alnumSinceScan += alnumEstimate(text);
        charsSinceScan += text.length();
        if (!endOfStream && alnumSinceScan < RESCAN_ALNUM && charsSinceScan < RESCAN_CHARS) {
            return new Step("", null);
        }
        alnumSinceScan = 0;
        charsSinceScan = 0;
        String scanText = context + pending;
        int ctx = context.length();
        NormalizedText normalized = NormalizedText.of(scanText);
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
        String released = scanText.substring(ctx, release);
        String newContext = context + released;
        context = newContext.substring(Math.max(0, newContext.length() - CONTEXT));
        pending.delete(0, release - ctx);
        pendingBase += release - ctx;
        return new Step(out, null);
    }

    /**
     * Letters and digits in a raw chunk, counting every non-ASCII char as one (folding may turn it
     * into a letter). Only paces the scans, so an estimate is enough.
     */
    private static int alnumEstimate(String text) {
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
                n++;
            }
        }
        return n;
    }

    private int releasePoint(NormalizedText normalized, List<Match> raw, int ctx) {
        View alnum = normalized.alnum();
        int window = rules.window();
        int release = alnum.length() <= window ? ctx : alnum.originalStart(alnum.length() - window);
        release = Math.max(release, ctx);
        boolean moved = true;
        while (moved) {
            moved = false;
            for (Match m : raw) {
                if (m.start() < release && m.end() > release && m.start() >= ctx) {
                    release = m.start();
                    moved = true;
                }
            }
        }
        // Never split a surrogate pair.
        if (release > ctx && release < normalized.original.length()
                && Character.isLowSurrogate(normalized.original.charAt(release))) {
            release--;
        }
        return release;
    }

    private Verdict verdict(Finding f, int delta) {
        return new Verdict(f.rule().id(), f.rule().category(), f.action(), Direction.OUTPUT, f.start() + delta,
                f.end() + delta, f.match().score(), field);
    }
}
