package io.cleargate.policy;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/** Runs requests through the real {@link Pipeline} with the policy stage and a recording dispatcher. */
final class PipelineHarness {

    /** Stands in for authentication: puts the given principal on the exchange. */
    record FixedPrincipal(Principal principal) implements Stage {
        @Override
        public StageName name() {
            return StageName.AUTHENTICATE;
        }

        @Override
        public StageResult onRequest(Exchange exchange) {
            if (principal != null) {
                exchange.put(Principal.KEY, principal);
            }
            return StageResult.forward();
        }
    }

    /**
     * Records what reached the engine and answers with a short completion; with a {@link #gate} it
     * waits for the gate first (requests stay in flight), with {@link #failing} the upstream fails.
     */
    static final class RecordingDispatcher implements Dispatcher {
        final List<EngineRequest> opened = new CopyOnWriteArrayList<>();
        volatile EngineEvent.Usage usage = new EngineEvent.Usage(10, 1);
        volatile String reply = "ok";
        volatile java.util.concurrent.CountDownLatch gate;
        volatile boolean failing;

        @Override
        public EngineStream open(Exchange exchange) {
            opened.add(exchange.engineRequest());
            var waitFor = gate;
            if (waitFor != null) {
                try {
                    if (!waitFor.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the gate never opened");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            if (failing) {
                throw new io.cleargate.pipeline.GatewayException(GatewayError.upstream(502, "upstream_failed",
                        "The upstream failed."));
            }
            var events = new ArrayList<EngineEvent>(List.of(new EngineEvent.Delta(reply),
                    new EngineEvent.Finish("stop", usage)));
            return new EngineStream() {
                @Override
                public EngineEvent next() {
                    return events.removeFirst();
                }

                @Override
                public void close() {}
            };
        }
    }

    static final class RecordingSink implements ClientSink {
        GatewayError error;
        Map<String, String> headers = Map.of();
        final StringBuilder text = new StringBuilder();
        boolean ended;

        @Override
        public void start(Map<String, String> headers) {
            this.headers = Map.copyOf(headers);
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            text.append(chunk.text());
            return true;
        }

        @Override
        public void end() {
            ended = true;
        }

        @Override
        public void fail(GatewayError error, Map<String, String> headers, boolean started) {
            this.error = error;
        }

        @Override
        public boolean clientGone() {
            return false;
        }

        @Override
        public void onGone(Runnable action) {}
    }

    record Outcome(Exchange exchange, RecordingSink sink) {
        int status() {
            return sink.error == null ? 200 : sink.error.status();
        }

        PolicyDecision decision() {
            return exchange.require(PolicyDecision.KEY);
        }

        @SuppressWarnings("unchecked")
        List<String> reasonCodes() {
            var reasons = (List<Map<String, String>>) sink.error.details().get("reasons");
            return reasons.stream().map(r -> r.get("code")).toList();
        }
    }

    final RecordingDispatcher dispatcher = new RecordingDispatcher();
    private final PolicyStage stage;

    PipelineHarness(PolicyStage stage) {
        this.stage = stage;
    }

    static Principal user(String tenant, String... roles) {
        return new Principal(tenant, "alice@" + tenant, Set.of(roles), Principal.AuthMethod.JWT);
    }

    Outcome chat(Principal principal, String model, Integer clientMaxTokens, int engineMaxTokens) {
        return chat(principal, model, clientMaxTokens, engineMaxTokens, Map.of());
    }

    /** As above, with more request parameters as the API layer describes them (for example tool names). */
    Outcome chat(Principal principal, String model, Integer clientMaxTokens, int engineMaxTokens,
            Map<String, Object> more) {
        Map<String, Object> parameters = new LinkedHashMap<>(more);
        if (clientMaxTokens != null) {
            parameters.put("max_tokens", clientMaxTokens);
        }
        var messages = List.of(new ChatMessage(ChatMessage.Role.USER, "What is the capital of France?"));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), model, false,
                parameters);
        var engine = new EngineRequest(model, messages, engineMaxTokens, null, null, null, null);
        var exchange = new Exchange("req-" + System.nanoTime(), incoming, engine);
        var sink = new RecordingSink();
        new Pipeline(List.of(new FixedPrincipal(principal), stage), dispatcher).execute(exchange, sink);
        return new Outcome(exchange, sink);
    }
}
