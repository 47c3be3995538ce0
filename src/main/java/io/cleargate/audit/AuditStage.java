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

    /** Only the end of the answer waits, for its final record to be durable; other chunks are only collected. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return chunk.endOfStream();
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        AuditState state = exchange.require(AuditKeys.STATE);
        if (chunk.choice() == 0) {
            state.released.append(chunk.text());
            state.toolCalls.addAll(chunk.toolCalls());
        } else {
            var other = state.others.computeIfAbsent(chunk.choice(), k -> new AuditState.Choice());
            other.released.append(chunk.text());
            other.toolCalls.addAll(chunk.toolCalls());
        }
        if (chunk.endsChoice()) {
            state.finishReasons.put(chunk.choice(), chunk.finishReason());
        }
        if (!chunk.endOfStream()) {
            return ChunkResult.pass(chunk);
        }
        var outcome = new Exchange.Outcome(200, null, chunk.finishReason(), true, null);
        try {
            writer.appendDurably(finalRecord(exchange, state, "complete", outcome, chunk.usage()));
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
                if (!state.get().released.isEmpty() || !state.get().toolCalls.isEmpty()
                        || !state.get().others.isEmpty()) {
                    kind = "incomplete";
                }
                writer.appendDurably(finalRecord(exchange, state.get(), kind, outcome, null));
            }
        } catch (RuntimeException e) {
            // The client already has its answer; the committed request record stays "in_progress",
            // which reads as incomplete.
            LOG.errorf("request %s: completion audit record not durable (%s)", exchange.requestId(), AuditWriter.describe(e));
        }
    }

    /** The final record: one output, or, for a request for several choices, every choice's. */
    private Draft finalRecord(Exchange exchange, AuditState state, String kind, Exchange.Outcome outcome,
            io.cleargate.domain.EngineEvent.Usage usage) {
        Integer n = exchange.engineRequest().options().n();
        if (n == null || n < 2) {
            return recorder.finish(exchange, kind, outcome, usage, state.released.toString(), state.toolCalls.calls());
        }
        var choices = new java.util.ArrayList<Recorder.ReleasedChoice>();
        choices.add(new Recorder.ReleasedChoice(0, state.released.toString(), state.toolCalls.calls(),
                state.finishReasons.get(0)));
        state.others.forEach((index, c) -> choices.add(new Recorder.ReleasedChoice(index, c.released.toString(),
                c.toolCalls.calls(), state.finishReasons.get(index))));
        return recorder.finishChoices(exchange, kind, outcome, usage, choices);
    }

    static GatewayError unavailable() {
        return GatewayError.unavailable("audit_unavailable",
                "The audit trail cannot record this request right now; it was not processed.");
    }
}
