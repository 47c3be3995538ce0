package io.cleargate.audit;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.domain.Route;
import io.cleargate.identity.Principal;
import io.cleargate.moderation.ModerationKeys;
import io.cleargate.moderation.Verdict;
import io.cleargate.moderation.VerdictList;
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
import io.cleargate.policy.PolicyDecision;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Drives the audit stage through the real {@link Pipeline} with a stand-in for the earlier stages
 * (they put principal, decision, verdicts and route on the exchange) and a recording dispatcher
 * in place of an engine.
 */
final class Traffic {

    /** What the earlier stages decided and what the engine answers. */
    record Scenario(String tenant, String subject, String mode, boolean allow, List<Verdict> verdicts,
            String prompt, String redactedPrompt, List<String> deltas, boolean failMidStream,
            PolicyDecision.Price price, boolean blocked) {

        Scenario(String tenant, String subject, String mode, boolean allow, List<Verdict> verdicts, String prompt,
                String redactedPrompt, List<String> deltas, boolean failMidStream) {
            this(tenant, subject, mode, allow, verdicts, prompt, redactedPrompt, deltas, failMidStream, null, false);
        }

        static Scenario of(String tenant, String mode) {
            return new Scenario(tenant, "alice", mode, true, List.of(), "hello secret@example.com",
                    "hello [EMAIL]", List.of("Hi ", "there"), false);
        }

        Scenario priced(PolicyDecision.Price p) {
            return new Scenario(tenant, subject, mode, allow, verdicts, prompt, redactedPrompt, deltas, failMidStream,
                    p, blocked);
        }

        Scenario answering(String... d) {
            return new Scenario(tenant, subject, mode, allow, verdicts, prompt, redactedPrompt, List.of(d),
                    failMidStream, price, blocked);
        }

        /** A response stage (like the content filter) ends the answer after its first piece, without usage. */
        Scenario blockedAfterFirstDelta() {
            return new Scenario(tenant, subject, mode, allow, verdicts, prompt, redactedPrompt, deltas, failMidStream,
                    price, true);
        }

        Scenario subject(String s) {
            return new Scenario(tenant, s, mode, allow, verdicts, prompt, redactedPrompt, deltas, failMidStream, price,
                    blocked);
        }

        Scenario denied() {
            return new Scenario(tenant, subject, mode, false, verdicts, prompt, redactedPrompt, deltas, failMidStream,
                    price, blocked);
        }

        Scenario verdicts(Verdict... v) {
            return new Scenario(tenant, subject, mode, allow, List.of(v), prompt, redactedPrompt, deltas, failMidStream,
                    price, blocked);
        }

        Scenario failingMidStream() {
            return new Scenario(tenant, subject, mode, allow, verdicts, prompt, redactedPrompt, deltas, true, price,
                    blocked);
        }
    }

    /** What the client saw. */
    static final class Sink implements ClientSink {
        final List<ResponseChunk> chunks = new ArrayList<>();
        GatewayError error;
        boolean ended;
        boolean goneAfterFirst;
        Consumer<ResponseChunk> onChunk = c -> {};

        @Override public void start(Map<String, String> headers) {}

        @Override
        public boolean chunk(ResponseChunk chunk) {
            onChunk.accept(chunk);
            chunks.add(chunk);
            return !goneAfterFirst;
        }

        @Override public void end() {
            ended = true;
        }

        @Override public void fail(GatewayError e, Map<String, String> headers, boolean started) {
            error = e;
        }

        @Override public boolean clientGone() {
            return goneAfterFirst && !chunks.isEmpty();
        }

        @Override public void onGone(Runnable action) {}

        String text() {
            return String.join("", chunks.stream().map(ResponseChunk::text).toList());
        }
    }

    static final class Context implements Stage {
        final Scenario s;

        Context(Scenario s) {
            this.s = s;
        }

        @Override public StageName name() {
            return StageName.POLICY;
        }

        @Override
        public StageResult onRequest(Exchange ex) {
            ex.put(Principal.KEY, new Principal(s.tenant(), s.subject(), Set.of("gateway-user"), Principal.AuthMethod.API_KEY));
            var decision = new PolicyDecision(s.allow(),
                    s.allow() ? List.of() : List.of(new PolicyDecision.Reason("model_not_allowed", "not for you")),
                    List.of("eu"), null, null, new PolicyDecision.AuditSettings(s.mode(), 30, 365),
                    "dec-" + ex.requestId(), "rev-7", Map.of("tenant", s.tenant(), "model", "mock", "roles", List.of("gateway-user")),
                    List.of("mock"), s.price(), List.of());
            ex.put(PolicyDecision.KEY, decision);
            ex.put(ModerationKeys.VERDICTS, new VerdictList(s.verdicts()));
            ex.put(Exchange.ROUTE, new Route("mock-eu", "eu", "EU"));
            if (!s.allow()) {
                return StageResult.shortCircuit(GatewayError.forbidden("policy_denied", "denied by policy"));
            }
            var rewritten = new EngineRequest("mock", List.of(new ChatMessage(ChatMessage.Role.USER, s.redactedPrompt())),
                    64, null, null, null, null);
            return StageResult.forward(rewritten);
        }
    }

    static final class Recording implements Dispatcher {
        final Scenario s;
        Runnable onOpen = () -> {};
        boolean opened;

        Recording(Scenario s) {
            this.s = s;
        }

        @Override
        public EngineStream open(Exchange exchange) {
            opened = true;
            onOpen.run();
            var it = s.deltas().iterator();
            return new EngineStream() {
                boolean done;

                @Override
                public EngineEvent next() throws EngineException {
                    if (it.hasNext()) {
                        return new EngineEvent.Delta(it.next());
                    }
                    if (s.failMidStream()) {
                        throw new EngineException(EngineException.Kind.UNAVAILABLE, "connection reset");
                    }
                    if (done) {
                        throw new IllegalStateException("read past the end");
                    }
                    done = true;
                    return new EngineEvent.Finish("stop", new EngineEvent.Usage(5, s.deltas().size()));
                }

                @Override public void close() {}
            };
        }
    }

    record Run(Exchange exchange, Sink sink, Recording dispatcher) {}

    static Run run(AuditStage audit, Scenario s) {
        return run(audit, s, d -> {}, sink -> {});
    }

    /** The same request without the audit stage, to measure what audit adds. */
    static Run runWithoutAudit(Scenario s) {
        return execute(List.of(new Context(s)), s, d -> {}, sink -> {});
    }

    static Run run(AuditStage audit, Scenario s, Consumer<Recording> dispatch, Consumer<Sink> client) {
        List<Stage> stages = s.blocked() ? List.of(new Context(s), audit, new Blocker())
                : List.of(new Context(s), audit);
        return execute(stages, s, dispatch, client);
    }

    /** Stands in for output moderation blocking: the first piece of text ends the answer (content_filter, no usage). */
    static final class Blocker implements Stage {
        @Override public StageName name() {
            return StageName.OUTPUT_MODERATION;
        }

        @Override public StageResult onRequest(Exchange ex) {
            return StageResult.forward();
        }

        @Override
        public io.cleargate.pipeline.ChunkResult onResponse(Exchange ex, ResponseChunk chunk) {
            return io.cleargate.pipeline.ChunkResult.emit(List.of(ResponseChunk.end("content_filter", null)));
        }
    }

    private static Run execute(List<Stage> stages, Scenario s, Consumer<Recording> dispatch, Consumer<Sink> client) {
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), "mock", true, Map.of("temperature", 0.5, "max_tokens", 64));
        var exchange = new Exchange("req-" + UUID.randomUUID(), incoming,
                new EngineRequest("mock", List.of(new ChatMessage(ChatMessage.Role.USER, s.prompt())), 64, 0.5, null, null, null));
        var dispatcher = new Recording(s);
        dispatch.accept(dispatcher);
        var sink = new Sink();
        client.accept(sink);
        new Pipeline(stages, dispatcher).execute(exchange, sink);
        return new Run(exchange, sink, dispatcher);
    }
}
