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
 * Moderates the completion as it streams (see {@link StreamModerator} for the hold-back rule).
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
        exchange.put(ModerationKeys.OUTPUT, new StreamModerator(rules, ModerationService.placeholders(exchange)));
        return StageResult.forward();
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        StreamModerator stream = exchange.require(ModerationKeys.OUTPUT);
        if (stream.ended()) {
            return ChunkResult.hold();
        }
        int before = stream.verdicts().size();
        StreamModerator.Step step = stream.push(chunk.text(), chunk.endOfStream());
        List<Verdict> added = stream.verdicts().subList(before, stream.verdicts().size());
        VerdictList all = exchange.get(ModerationKeys.VERDICTS).orElse(VerdictList.empty()).plus(added);
        exchange.put(ModerationKeys.VERDICTS, all);

        List<ResponseChunk> out = new ArrayList<>(2);
        if (step.blocked() != null) {
            if (!step.text().isEmpty()) {
                out.add(ResponseChunk.text(step.text()));
            }
            out.add(ResponseChunk.end(CONTENT_FILTER, null).withExtension(ModerationSummary.EXTENSION,
                    ModerationSummary.extension(stream.rules().profile(), all.verdicts(), step.blocked())));
        } else if (chunk.endOfStream()) {
            out.add(chunk.withText(step.text()).withExtension(ModerationSummary.EXTENSION,
                    ModerationSummary.extension(stream.rules().profile(), all.verdicts(), null)));
        } else if (!step.text().isEmpty()) {
            out.add(chunk.withText(step.text()));
        }
        return ChunkResult.emit(out);
    }
}
