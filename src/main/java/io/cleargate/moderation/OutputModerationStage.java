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

/**
 * Moderates the completion as it streams (see {@link StreamModerator} for the hold-back rule), its
 * text and each tool call's arguments alike (see {@link ResponseModeration}).
 * Redactions happen in the stream; a blocking rule ends the response with finish_reason
 * content_filter and an explanation; the final chunk carries the summary of every verdict of the
 * request. Streaming and non-streaming responses take the same path.
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
        exchange.put(ModerationKeys.OUTPUT, new ResponseModeration(rules, ModerationService.placeholders(exchange)));
        return StageResult.forward();
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
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
}
