package io.cleargate.moderation;

import io.cleargate.domain.EngineEvent.TokenLogprob;
import io.cleargate.domain.EngineEvent.ToolCallDelta;
import io.cleargate.moderation.Verdict.Action;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One response's output moderation: the completion's text and every tool call's arguments are
 * separate streams, each held back by its own {@link StreamModerator} (a secret cannot span two
 * of them), with one set of placeholders for the whole response. A call's id and function name go
 * out as soon as they arrive; its arguments only as their moderator releases them.
 *
 * <p>Log probabilities describe text, so they wait until the text they describe is released, and
 * a token that overlaps a redacted or blocked span goes out without its text and alternatives.
 * Per-request state; used by one thread at a time.
 */
final class ResponseModeration {

    /** What one chunk releases, and the finding (and its stream) that ended the response, if any. */
    record Released(String text, List<ToolCallDelta> toolCalls, List<TokenLogprob> logprobs, Finding blocked,
            String blockedField) {}

    private final RuleSet rules;
    private final Placeholders placeholders;
    private final boolean wholeText;
    private final StreamModerator text;
    private final Map<Integer, StreamModerator> calls = new TreeMap<>();
    private final Deque<PendingLogprob> logprobs = new ArrayDeque<>();
    private int logprobCursor;
    private int textReceived;
    private boolean ended;

    private record PendingLogprob(TokenLogprob token, int start, int end) {}

    ResponseModeration(RuleSet rules, Placeholders placeholders) {
        this(rules, placeholders, false);
    }

    /**
     * @param wholeText the response is not streamed: its text and each call's arguments are moderated
     *                  once, as whole text, when the response ends ({@link StreamModerator})
     */
    ResponseModeration(RuleSet rules, Placeholders placeholders, boolean wholeText) {
        this.rules = rules;
        this.placeholders = placeholders;
        this.wholeText = wholeText;
        this.text = new StreamModerator(rules, placeholders, null, wholeText);
    }

    RuleSet rules() {
        return rules;
    }

    boolean ended() {
        return ended;
    }

    /** Every verdict so far: the text's, then each call's in index order. */
    List<Verdict> verdicts() {
        var all = new ArrayList<>(text.verdicts());
        calls.values().forEach(c -> all.addAll(c.verdicts()));
        return all;
    }

    Released push(String newText, List<ToolCallDelta> deltas, List<TokenLogprob> newLogprobs, boolean endOfStream) {
        if (ended) {
            return new Released("", List.of(), List.of(), null, null);
        }
        for (TokenLogprob token : newLogprobs) {
            int start = logprobCursor;
            logprobCursor += token.token().length();
            logprobs.add(new PendingLogprob(token, start, logprobCursor));
        }
        textReceived += newText.length();
        StreamModerator.Step step = text.push(newText, endOfStream);
        if (step.blocked() != null) {
            return end(step.text(), List.of(), step.blocked(), null, step.blocked().start());
        }
        String releasedText = step.text();
        List<ToolCallDelta> out = new ArrayList<>();
        for (ToolCallDelta delta : deltas) {
            StreamModerator call = calls.computeIfAbsent(delta.index(),
                    i -> new StreamModerator(rules, placeholders, "tool_calls[" + i + "].arguments", wholeText));
            if (delta.id() != null || delta.name() != null) {
                out.add(new ToolCallDelta(delta.index(), delta.id(), delta.name(), ""));
            }
            StreamModerator.Step args = call.push(delta.arguments(), false);
            if (!args.text().isEmpty()) {
                out.add(new ToolCallDelta(delta.index(), null, null, args.text()));
            }
            if (args.blocked() != null) {
                return end(releasedText, out, args.blocked(), call.field(), textReleased());
            }
        }
        if (endOfStream) {
            for (var entry : calls.entrySet()) {
                StreamModerator.Step rest = entry.getValue().push("", true);
                if (!rest.text().isEmpty()) {
                    out.add(new ToolCallDelta(entry.getKey(), null, null, rest.text()));
                }
                if (rest.blocked() != null) {
                    return end(releasedText, out, rest.blocked(), entry.getValue().field(), textReleased());
                }
            }
            ended = true;
        }
        return new Released(releasedText, out, releasableLogprobs(endOfStream ? Integer.MAX_VALUE : textReleased()),
                null, null);
    }

    private int textReleased() {
        return Math.min(text.released(), textReceived);
    }

    /** @param releasedUpTo the text went out up to here (exclusive); nothing after it, nor its log probabilities */
    private Released end(String releasedText, List<ToolCallDelta> out, Finding blocked, String field, int releasedUpTo) {
        ended = true;
        List<TokenLogprob> lastLogprobs = releasableLogprobs(releasedUpTo);
        logprobs.clear();
        return new Released(releasedText, out, lastLogprobs, blocked, field);
    }

    /** Log probabilities whose text has been released; masked where the text was not released as generated. */
    private List<TokenLogprob> releasableLogprobs(int released) {
        List<Finding> changed = text.findings().stream().filter(f -> f.action() != Action.FLAG).toList();
        var out = new ArrayList<TokenLogprob>();
        while (!logprobs.isEmpty() && logprobs.peekFirst().end() <= released) {
            PendingLogprob p = logprobs.pollFirst();
            boolean masked = changed.stream().anyMatch(f -> f.start() < p.end() && f.end() > p.start());
            out.add(masked ? new TokenLogprob("", p.token().logprob(), List.of()) : p.token());
        }
        return out;
    }
}
