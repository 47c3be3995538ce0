package io.cleargate.audit;

import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Fail-closed audit. The request record is durable before the engine is called; the final record
 * (output and tool calls as released by output moderation, usage, verdicts, latency) is durable before the
 * end-of-stream chunk moves on towards the client, so before {@code data: [DONE]}. If either
 * commit fails the client gets 503 audit_unavailable. Requests refused by earlier stages and
 * requests that end early are recorded in {@link #onComplete}.
 */
@ApplicationScoped
public class AuditStage implements Stage {

    private static final Logger LOG = Logger.getLogger(AuditStage.class);

    private final AuditWriter writer;
    private final Recorder recorder;

    @Inject
    public AuditStage(AuditWriter writer, Recorder recorder) {
        this.writer = writer;
        this.recorder = recorder;
    }

    @Override
    public StageName name() {
        return StageName.AUDIT;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        AuditState state = new AuditState();
        exchange.put(AuditKeys.STATE, state);
        try {
            writer.appendDurably(recorder.request(exchange));
            state.requestCommitted = true;
            return StageResult.forward();
        } catch (RuntimeException e) {
            LOG.errorf("request %s refused: audit record not durable (%s)", exchange.requestId(), AuditWriter.describe(e));
            return StageResult.shortCircuit(unavailable());
        }
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        AuditState state = exchange.require(AuditKeys.STATE);
        state.released.append(chunk.text());
        state.toolCalls.addAll(chunk.toolCalls());
        if (!chunk.endOfStream()) {
            return ChunkResult.pass(chunk);
        }
        var outcome = new Exchange.Outcome(200, null, chunk.finishReason(), true, null);
        try {
            writer.appendDurably(recorder.finish(exchange, "complete", outcome, chunk.usage(), state.released.toString(),
                    state.toolCalls.calls()));
            state.finalCommitted = true;
            return ChunkResult.pass(chunk);
        } catch (RuntimeException e) {
            LOG.errorf("request %s: final audit record not durable (%s)", exchange.requestId(), AuditWriter.describe(e));
            return ChunkResult.fail(unavailable());
        }
    }

    @Override
    public void onComplete(Exchange exchange) {
        try {
            var state = exchange.get(AuditKeys.STATE);
            if (state.isEmpty()) {
                // An earlier stage refused the request; record the refusal with what it decided.
                writer.appendDurably(recorder.refusal(exchange));
            } else if (state.get().requestCommitted && !state.get().finalCommitted) {
                Exchange.Outcome outcome = exchange.outcome();
                String kind = outcome.served() || outcome.status() == 499 ? "incomplete" : "refused";
                if (!state.get().released.isEmpty() || !state.get().toolCalls.isEmpty()) {
                    kind = "incomplete";
                }
                writer.appendDurably(recorder.finish(exchange, kind, outcome, null, state.get().released.toString(),
                        state.get().toolCalls.calls()));
            }
        } catch (RuntimeException e) {
            // The client already has its answer; the committed request record stays "in_progress",
            // which reads as incomplete.
            LOG.errorf("request %s: completion audit record not durable (%s)", exchange.requestId(), AuditWriter.describe(e));
        }
    }

    static GatewayError unavailable() {
        return GatewayError.unavailable("audit_unavailable",
                "The audit trail cannot record this request right now; it was not processed.");
    }
}
