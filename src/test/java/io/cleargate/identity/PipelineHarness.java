package io.cleargate.identity;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs requests through a real {@link Pipeline} made of the identity stages, a recording stand-in
 * for audit (to see what its onComplete sees) and a dispatcher that counts engine calls.
 */
final class PipelineHarness {

    /** What one request produced. */
    record Result(Exchange exchange, int status, GatewayError error, String text, Exchange.Outcome seenByAudit) {}

    final AtomicInteger engineCalls = new AtomicInteger();
    private final Pipeline pipeline;
    private final List<Exchange.Outcome> auditOutcomes = new ArrayList<>();

    PipelineHarness(Stage authenticate, Stage resolveTenant) {
        Stage audit = new Stage() {
            @Override
            public StageName name() {
                return StageName.AUDIT;
            }

            @Override
            public void onComplete(Exchange exchange) {
                synchronized (auditOutcomes) {
                    auditOutcomes.add(exchange.outcome());
                }
            }
        };
        Dispatcher dispatcher = exchange -> {
            engineCalls.incrementAndGet();
            return new EngineStream() {
                private int step;

                @Override
                public EngineEvent next() {
                    return step++ == 0 ? new EngineEvent.Delta("hello") : new EngineEvent.Finish("stop",
                            new EngineEvent.Usage(3, 1));
                }

                @Override
                public void close() {}
            };
        };
        this.pipeline = new Pipeline(List.of(authenticate, resolveTenant, audit), dispatcher);
    }

    /** Sends a chat request with this Authorization header (null: none). */
    Result call(String authorization) {
        Map<String, String> headers = new HashMap<>();
        if (authorization != null) {
            headers.put("authorization", authorization);
        }
        List<ChatMessage> messages = List.of(new ChatMessage(ChatMessage.Role.USER, "hi"));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", headers, "test-model", false,
                Map.of());
        var exchange = new Exchange("req-" + System.nanoTime(), incoming,
                new EngineRequest("test-model", messages, 16, null, null, null, null));
        var sink = new RecordingSink();
        int auditsBefore;
        synchronized (auditOutcomes) {
            auditsBefore = auditOutcomes.size();
        }
        pipeline.execute(exchange, sink);
        Exchange.Outcome audited;
        synchronized (auditOutcomes) {
            audited = auditOutcomes.size() > auditsBefore ? auditOutcomes.getLast() : null;
        }
        return new Result(exchange, sink.status, sink.error, sink.text.toString(), audited);
    }

    private static final class RecordingSink implements ClientSink {
        int status;
        GatewayError error;
        final StringBuilder text = new StringBuilder();

        @Override
        public void start(Map<String, String> headers) {
            status = 200;
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            text.append(chunk.text());
            return true;
        }

        @Override
        public void end() {}

        @Override
        public void fail(GatewayError error, Map<String, String> headers, boolean started) {
            this.error = error;
            if (!started) {
                status = error.status();
            }
        }

        @Override
        public boolean clientGone() {
            return false;
        }

        @Override
        public void onGone(Runnable action) {}
    }
}
