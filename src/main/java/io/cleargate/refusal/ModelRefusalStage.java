package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalDetector;
import io.cleargate.refusal.detector.RefusalVerdict;

import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Observes the model's own answer and says whether the model refused, deflected, answered only in
 * part, or whether the upstream filtered or cut it. It never blocks, holds or changes text: every
 * chunk passes as it came; the end-of-stream chunk gains the {@link RefusalSummary#EXTENSION}
 * member and the exchange the {@link RefusalKeys#VERDICT} that audit and metrics read.
 *
 * <p>It sits next to the engine (last in {@link io.cleargate.pipeline.StageOrder}), so it sees the
 * engine's text and finish reason before output moderation acts: a content_filter finish here is
 * the upstream's, never the tenant's filter.
 */
@ApplicationScoped
public class ModelRefusalStage implements Stage {

    private final RefusalDetector detector = new RefusalDetector();

    @Override
    public StageName name() {
        return StageName.MODEL_REFUSAL;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        exchange.put(RefusalKeys.TRANSCRIPT, new Transcript());
        return StageResult.forward();
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        Transcript transcript = exchange.require(RefusalKeys.TRANSCRIPT);
        if (chunk.choice() != 0) {
            return ChunkResult.pass(chunk); // with several choices (n > 1) the first one is judged
        }
        transcript.append(chunk.text());
        if (!chunk.endOfStream()) {
            return ChunkResult.pass(chunk);
        }
        RefusalVerdict verdict = judge(transcript, chunk.finishReason());
        exchange.put(RefusalKeys.VERDICT, verdict);
        exchange.responseHeaders().put(RefusalSummary.HEADER, RefusalSummary.header(verdict));
        return ChunkResult.pass(chunk.withExtension(RefusalSummary.EXTENSION, RefusalSummary.extension(verdict)));
    }

    /**
     * A response that ended early (the tenant's filter stopped it, the engine failed, the client
     * left) is judged on what the model had said, so audit and metrics still see it. The finish
     * reason is not the upstream's then, so it is not used.
     */
    @Override
    public void onComplete(Exchange exchange) {
        if (exchange.get(RefusalKeys.VERDICT).isPresent()) {
            return;
        }
        exchange.get(RefusalKeys.TRANSCRIPT).filter(t -> t.length() > 0)
                .ifPresent(t -> exchange.put(RefusalKeys.VERDICT, judge(t, null)));
    }

    private RefusalVerdict judge(Transcript transcript, String finishReason) {
        return detector.detect(transcript.text(), transcript.length(), finishReason);
    }
}
