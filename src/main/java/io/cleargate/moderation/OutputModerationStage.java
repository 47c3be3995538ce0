package io.cleargate.moderation;

import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Moderates the completion as it streams (see {@link StreamModerator} for the hold-back rule), its
 * text and each tool call's arguments alike (see {@link ResponseModeration}).
 * Redactions happen in the stream; a blocking rule ends the response with finish_reason
 * content_filter and an explanation; the final chunk carries the summary of every verdict of the
 * request. Streaming and non-streaming responses take the same path, except that a non-streamed
 * response, nothing of which goes out before its end, is moderated once as whole text at its end
 * instead of being held back chunk by chunk (the same verdicts, without working out release points).
 * With several choices (n > 1) each choice is moderated on its own ({@link Choices}).
 */
@ApplicationScoped
public class OutputModerationStage implements Stage {

    static final String CONTENT_FILTER = "content_filter";

    private final ModerationService moderation;

    @Inject
    public OutputModerationStage(ModerationService moderation) {
        this.moderation = moderation;
    }

    @Override
    public StageName name() {
        return StageName.OUTPUT_MODERATION;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        // Resolved before the engine is called, so a missing profile refuses the request up front.
        RuleSet rules = moderation.rulesFor(exchange);
        boolean wholeText = !exchange.incoming().stream();
        ResponseModeration first = new ResponseModeration(rules, ModerationService.placeholders(exchange), wholeText);
        exchange.put(ModerationKeys.OUTPUT, first);
        Integer n = exchange.engineRequest().options().n();
        if (n != null && n > 1) {
            exchange.put(ModerationKeys.CHOICES, new Choices(first, rules, ModerationService.placeholders(exchange),
                    wholeText));
        }
        return StageResult.forward();
    }

    /**
     * One moderation per choice of a request for several (n > 1), each with its own hold-back: a
     * block ends that choice alone (finish_reason content_filter), the others go on. Placeholders
     * are shared, so one e-mail address is [EMAIL_1] in every choice.
     */
    static final class Choices {
        private final Map<Integer, ResponseModeration> lanes = new TreeMap<>();
        private final RuleSet rules;
        private final Placeholders placeholders;
        private final boolean wholeText;

        Choices(ResponseModeration first, RuleSet rules, Placeholders placeholders, boolean wholeText) {
            this.rules = rules;
            this.placeholders = placeholders;
            this.wholeText = wholeText;
            lanes.put(0, first);
        }

        ResponseModeration of(int choice) {
            return lanes.computeIfAbsent(choice, k -> new ResponseModeration(rules, placeholders, wholeText));
        }
    }

    /** Moderating a chunk is work on text already in memory: it never waits. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return false;
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        var choices = exchange.get(ModerationKeys.CHOICES);
        if (choices.isPresent()) {
            return severalChoices(exchange, choices.get(), chunk);
        }
        ResponseModeration response = exchange.require(ModerationKeys.OUTPUT);
        if (response.ended()) {
            return ChunkResult.hold();
        }
        int before = response.verdicts().size();
        ResponseModeration.Released step = response.push(chunk.text(), chunk.toolCalls(), chunk.logprobs(),
                chunk.endOfStream());
        List<Verdict> all = response.verdicts();
        VerdictList verdicts = exchange.get(ModerationKeys.VERDICTS).orElse(VerdictList.empty())
                .plus(all.subList(before, all.size()));
        exchange.put(ModerationKeys.VERDICTS, verdicts);

        List<ResponseChunk> out = new ArrayList<>(2);
        // Embeddings are vectors, not text: nothing to read, they pass as they are.
        ResponseChunk released = ResponseChunk.text(step.text()).withToolCalls(step.toolCalls())
                .withLogprobs(step.logprobs()).withEmbeddings(chunk.embeddings());
        if (step.blocked() != null) {
            if (!released.isEmpty()) {
                out.add(released);
            }
            out.add(ResponseChunk.end(CONTENT_FILTER, null).withExtension(ModerationSummary.EXTENSION,
                    ModerationSummary.extension(response.rules().profile(), verdicts.verdicts(), step.blocked(),
                            step.blockedField())));
        } else if (chunk.endOfStream()) {
            out.add(chunk.withText(step.text()).withToolCalls(step.toolCalls()).withLogprobs(step.logprobs())
                    .withExtension(ModerationSummary.EXTENSION,
                            ModerationSummary.extension(response.rules().profile(), verdicts.verdicts(), null)));
        } else if (!released.isEmpty()) {
            out.add(released);
        }
        return ChunkResult.emit(out);
    }

    private ChunkResult severalChoices(Exchange exchange, Choices choices, ResponseChunk chunk) {
        List<Verdict> added = new ArrayList<>();
        List<ResponseChunk> out = new ArrayList<>();
        if (chunk.endOfStream()) {
            // Every choice normally ended with its own finish; one the upstream left open ends here.
            for (var lane : choices.lanes.entrySet()) {
                if (!lane.getValue().ended()) {
                    push(lane.getValue(), lane.getKey(), ResponseChunk.choiceEnd(lane.getKey(), "stop"), out, added);
                }
            }
        } else {
            ResponseModeration lane = choices.of(chunk.choice());
            if (lane.ended()) {
                return ChunkResult.hold();
            }
            push(lane, chunk.choice(), chunk, out, added);
        }
        VerdictList verdicts = exchange.get(ModerationKeys.VERDICTS).orElse(VerdictList.empty()).plus(added);
        exchange.put(ModerationKeys.VERDICTS, verdicts);
        if (chunk.endOfStream()) {
            out.add(chunk.withText("").withExtension(ModerationSummary.EXTENSION,
                    ModerationSummary.extension(choices.rules.profile(), verdicts.verdicts(), null)));
        }
        return ChunkResult.emit(out);
    }

    /** Moderates one chunk of one choice; adds what it released, its end, and its new verdicts. */
    private static void push(ResponseModeration lane, int choice, ResponseChunk chunk, List<ResponseChunk> out,
            List<Verdict> added) {
        int before = lane.verdicts().size();
        ResponseModeration.Released step = lane.push(chunk.text(), chunk.toolCalls(), chunk.logprobs(),
                chunk.endsChoice());
        List<Verdict> now = lane.verdicts();
        added.addAll(now.subList(before, now.size()));
        release(out, choice, step, chunk.endsChoice() ? chunk.finishReason() : null);
    }

    /** What a choice's moderation released, then its end: content_filter when it blocked, else {@code finish}. */
    private static void release(List<ResponseChunk> out, int choice, ResponseModeration.Released step, String finish) {
        ResponseChunk released = ResponseChunk.text(step.text()).withToolCalls(step.toolCalls())
                .withLogprobs(step.logprobs()).withChoice(choice);
        if (!released.isEmpty()) {
            out.add(released);
        }
        if (step.blocked() != null) {
            out.add(ResponseChunk.choiceEnd(choice, CONTENT_FILTER));
        } else if (finish != null) {
            out.add(ResponseChunk.choiceEnd(choice, finish));
        }
    }
}
