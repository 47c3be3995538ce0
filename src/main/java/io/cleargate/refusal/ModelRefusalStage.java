package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalDetector;
import io.cleargate.refusal.detector.RefusalVerdict;

import io.cleargate.domain.EngineRequest;
import io.cleargate.pipeline.ChunkResult;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.policy.PolicyDecision.ModelRefusalAction;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/**
 * Judges the model's own answer: did the model refuse, deflect, answer only in part, or did the
 * upstream filter or cut it. The end-of-stream chunk gains the {@link RefusalSummary#EXTENSION}
 * member and the exchange the {@link RefusalKeys#VERDICT} and {@link RefusalKeys#HANDLING} that
 * audit and metrics read. It never changes a byte of the model's text. What else happens is the
 * tenant policy's choice ({@code model_refusal.action} in the decision):
 * <ul>
 *   <li>observe (the default): nothing more;</li>
 *   <li>flag: a declined answer also carries a plain notice that the model declined;</li>
 *   <li>retry: the answer is held back until the stage knows (a whole non-streamed answer; the
 *       first {@value #STREAM_HOLD_CHARS} characters of a stream, where models refuse); a declined
 *       answer nothing of which was released is discarded and asked once more of another eligible
 *       backend ({@link ChunkResult.Retry}); a longer or tool-calling answer goes on as it comes,
 *       and if it was declined it is flagged.</li>
 * </ul>
 *
 * <p>It sits next to the engine (last in {@link io.cleargate.pipeline.StageOrder}), so it sees the
 * engine's text and finish reason before output moderation acts: a content_filter finish here is
 * the upstream's, never the tenant's filter; and a retry discards an answer no later stage saw.
 */
@ApplicationScoped
public class ModelRefusalStage implements Stage {

    /** How much of a stream a retry policy holds back while waiting for the verdict. */
    static final int STREAM_HOLD_CHARS = 600;

    private static final RefusalDetector DETECTOR = new RefusalDetector();

    @Override
    public StageName name() {
        return StageName.MODEL_REFUSAL;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        if (exchange.engineRequest().kind() == EngineRequest.Kind.EMBEDDINGS) {
            return StageResult.forward(); // an embedding is not an answer a model could decline
        }
        ModelRefusalAction action = exchange.get(PolicyDecision.KEY).map(PolicyDecision::modelRefusal)
                .orElse(ModelRefusalAction.OBSERVE);
        exchange.put(RefusalKeys.ANSWER, new Answer(action));
        return StageResult.forward();
    }

    /** Judging the text is work in memory; a retry (which blocks) is declared by {@link #mayAskForRetry}. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return false;
    }

    @Override
    public boolean mayAskForRetry(Exchange exchange) {
        return exchange.get(RefusalKeys.ANSWER).map(a -> a.action == ModelRefusalAction.RETRY).orElse(false);
    }

    @Override
    public ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
        Answer answer = exchange.get(RefusalKeys.ANSWER).orElse(null);
        if (answer == null || chunk.choice() != 0) {
            // With several choices (n > 1) the first one is judged.
            return ChunkResult.pass(chunk);
        }
        if (answer.awaitingRetry) {
            // The dispatcher honoured the retry: this is the next backend's answer. The verdict
            // prepared for the discarded one no longer holds, and must not leave with a stream's headers.
            answer.startOver(exchange.incoming().stream());
            exchange.remove(RefusalKeys.VERDICT);
            exchange.put(RefusalKeys.HANDLING, new RefusalHandling(answer.action.id(), false, RefusalHandling.RETRIED,
                    answer.earlier));
            exchange.responseHeaders().remove(RefusalSummary.HEADER);
        }
        answer.transcript.append(chunk.text());
        answer.toolCalls |= !chunk.toolCalls().isEmpty();
        if (!chunk.endOfStream()) {
            return onText(exchange, answer, chunk);
        }
        RefusalVerdict verdict = judge(answer, chunk.finishReason());
        if (answer.holding && verdict.declined() && answer.earlier.isEmpty()) {
            // Nothing of this answer went out: ask another backend, and have the flagged answer ready if none can.
            answer.earlier.add(new RefusalHandling.Attempt(exchange.get(Exchange.ROUTE).orElse(null), verdict, chunk.usage()));
            answer.awaitingRetry = true;
            if (chunk.usage() != null) {
                exchange.put(Exchange.DISCARDED_USAGE, chunk.usage());
            }
            List<ResponseChunk> fallback = answer.release();
            fallback.add(finish(exchange, answer, verdict, chunk, RefusalHandling.NO_OTHER_BACKEND, List.of()));
            return ChunkResult.retry(fallback);
        }
        String retry = null;
        if (!answer.earlier.isEmpty()) {
            retry = RefusalHandling.RETRIED;
        } else if (answer.action == ModelRefusalAction.RETRY && verdict.declined()) {
            retry = RefusalHandling.ALREADY_RELEASED;
        }
        List<ResponseChunk> out = answer.release();
        out.add(finish(exchange, answer, verdict, chunk, retry, answer.earlier));
        return ChunkResult.emit(out);
    }

    /** Text on its way: passed on, or held while a retry policy waits for the verdict. */
    private static ChunkResult onText(Exchange exchange, Answer answer, ResponseChunk chunk) {
        if (!answer.holding) {
            return ChunkResult.pass(chunk);
        }
        answer.hold(chunk);
        boolean tooLong = exchange.incoming().stream() && answer.heldChars() > STREAM_HOLD_CHARS;
        if (tooLong || answer.toolCalls) {
            // Models refuse at the start and never with a tool call: what was held goes on, a retry is off.
            return ChunkResult.emit(answer.release());
        }
        return ChunkResult.hold();
    }

    private static ResponseChunk finish(Exchange exchange, Answer answer, RefusalVerdict verdict, ResponseChunk end,
            String retry, List<RefusalHandling.Attempt> earlier) {
        boolean flagged = verdict.declined() && answer.action != ModelRefusalAction.OBSERVE;
        var handling = new RefusalHandling(answer.action.id(), flagged, retry, earlier);
        exchange.put(RefusalKeys.VERDICT, verdict);
        exchange.put(RefusalKeys.HANDLING, handling);
        exchange.responseHeaders().put(RefusalSummary.HEADER, RefusalSummary.header(verdict, handling));
        return end.withExtension(RefusalSummary.EXTENSION, RefusalSummary.extension(verdict, handling));
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
        exchange.get(RefusalKeys.ANSWER).filter(a -> a.transcript.length() > 0)
                .ifPresent(a -> exchange.put(RefusalKeys.VERDICT, judge(a, null)));
    }

    /**
     * The verdict on what the model had said when a later stage ended the response before the
     * model did (the tenant's filter blocked it): audit records it in the same final record.
     * Judged without a finish reason, since the model's own never arrived. Empty when the model
     * said nothing yet, or when the answer already has its verdict ({@link RefusalKeys#VERDICT}).
     */
    public static java.util.Optional<RefusalVerdict> judgedSoFar(Exchange exchange) {
        if (exchange.get(RefusalKeys.VERDICT).isPresent()) {
            return java.util.Optional.empty();
        }
        return exchange.get(RefusalKeys.ANSWER).filter(a -> a.transcript.length() > 0 || a.toolCalls)
                .map(a -> judge(a, null));
    }

    private static RefusalVerdict judge(Answer answer, String finishReason) {
        // An answer that is only tool calls has no text to judge, and is no empty cut-off.
        String reason = answer.toolCalls && answer.transcript.length() == 0 ? "tool_calls" : finishReason;
        return DETECTOR.detect(answer.transcript.text(), answer.transcript.length(), reason);
    }
}
