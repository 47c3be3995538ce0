package io.cleargate.pipeline;

import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Runs an exchange through the stages in {@link StageOrder}, then the {@link Dispatcher}, and
 * carries the response back through the stages in reverse. Blocking by design: each request runs
 * on its own virtual thread ({@link #execute}). Only when no enabled stage blocks (every governance
 * stage switched off, as in the bench's bare arm) may a request stay on the event loop that read it
 * ({@link #executeOnEventLoop}).
 */
@ApplicationScoped
public class Pipeline {

    private static final Logger LOG = Logger.getLogger(Pipeline.class);

    private final List<Stage> stages;
    private final Dispatcher dispatcher;
    private final List<CompletionObserver> observers;
    private final Tracer tracer;
    /** No enabled stage blocks: requests may run on the event loop that read them ({@link #executeOnEventLoop}). */
    private final boolean neverBlocks;
    /** Governed streams move to the event loop after their request phase ({@link PipelineConfig#governedStreamsOnEventLoop}). */
    private final boolean governedStreamsOnLoop;

    /**
     * @param sdkDisabled {@code quarkus.otel.sdk.disabled} (the default, see application.properties): Quarkus
     *     still injects the SDK's tracer then, which records every stage's span, its attributes and ids,
     *     and drops it at the end (about 6 KB and 10-20 µs a request in the full arm's profile,
     *     bench/results/speed.md section 27); with the SDK off the pipeline uses the API's no-op tracer.
     */
    @Inject
    public Pipeline(Instance<Stage> available, Dispatcher dispatcher, Instance<CompletionObserver> observers,
            PipelineConfig config, Tracer tracer,
            @ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "false") boolean sdkDisabled) {
        this(ordered(available, config), dispatcher, observers.stream().toList(),
                sdkDisabled ? OpenTelemetry.noop().getTracer("cleargate") : tracer,
                config.governedStreamsOnEventLoop());
    }

    /** For tests: stages already in order, no observers, no tracing. */
    public Pipeline(List<Stage> orderedStages, Dispatcher dispatcher) {
        this(orderedStages, dispatcher, List.of(), OpenTelemetry.noop().getTracer("cleargate"));
    }

    /** Stages already in order; observers told of every ended exchange; spans go to {@code tracer}. */
    public Pipeline(List<Stage> orderedStages, Dispatcher dispatcher, List<CompletionObserver> observers,
            Tracer tracer) {
        this(orderedStages, dispatcher, observers, tracer, true);
    }

    /** As above; {@code governedStreamsOnLoop} false keeps a governed stream on its virtual thread. */
    public Pipeline(List<Stage> orderedStages, Dispatcher dispatcher, List<CompletionObserver> observers,
            Tracer tracer, boolean governedStreamsOnLoop) {
        this.governedStreamsOnLoop = governedStreamsOnLoop;
        this.stages = List.copyOf(orderedStages);
        this.dispatcher = dispatcher;
        this.observers = List.copyOf(observers);
        this.tracer = tracer;
        this.neverBlocks = stages.stream().noneMatch(Stage::blocks);
        LOG.infof("pipeline stages: %s%s", stages.stream().map(s -> s.name().id()).toList(),
                neverBlocks ? " (none blocks: requests stay on the event loop where the engine allows)" : "");
    }

    /** True when no enabled stage blocks, so {@link #executeOnEventLoop} may be used. */
    public boolean neverBlocks() {
        return neverBlocks;
    }

    public List<StageName> activeStages() {
        return stages.stream().map(Stage::name).toList();
    }

    private static List<Stage> ordered(Instance<Stage> available, PipelineConfig config) {
        Map<StageName, Stage> byName = new EnumMap<>(StageName.class);
        for (Stage stage : available) {
            Stage previous = byName.put(stage.name(), stage);
            if (previous != null) {
                throw new IllegalStateException("two stages claim " + stage.name() + ": "
                        + previous.getClass().getName() + " and " + stage.getClass().getName());
            }
        }
        List<String> disabled = config.disabledStages().orElse(List.of());
        if (!disabled.isEmpty() && !config.allowDisabledStages()) {
            throw new IllegalStateException("cleargate.disabled-stages is set (" + disabled
                    + ") but cleargate.allow-disabled-stages is false; governance stages may only be"
                    + " switched off deliberately, for benchmarks");
        }
        if (disabled.contains(StageName.ROUTING.id())) {
            throw new IllegalStateException("cleargate.disabled-stages names routing, which cannot be switched off:"
                    + " the dispatcher only ever serves a request from its route plan");
        }
        List<Stage> result = new ArrayList<>();
        for (StageName name : StageOrder.ORDER) {
            Stage stage = byName.get(name);
            if (stage != null && !disabled.contains(name.id())) {
                result.add(stage);
            }
        }
        return result;
    }

    /** Runs the whole exchange on the calling (virtual) thread, writing the response to {@code sink}. Never throws. */
    public void execute(Exchange exchange, ClientSink sink) {
        execute(exchange, sink, null, null);
    }

    /**
     * As {@link #execute(Exchange, ClientSink)}: the stages' request phases run on the calling
     * (virtual) thread. A streamed answer then moves to {@code eventLoop} (the loop of the request's
     * connection), if this pipeline serves governed streams there ({@link PipelineConfig#governedStreamsOnEventLoop},
     * off by default), when every backend it could come from opens there without blocking and no stage
     * may ask for it again ({@link Stage#mayAskForRetry}): its chunks are read, moderated and written
     * on that loop as they arrive, instead of waking a reader thread and this thread for each of them.
     * What must block after that (a chunk a stage blocks on, such as the end that audit makes
     * durable, and the completion) runs on a thread from {@code blocking}. Never throws.
     */
    public void execute(Exchange exchange, ClientSink sink, Executor eventLoop, Executor blocking) {
        guarded(exchange, sink, () -> {
            List<Stage> forwarded = new ArrayList<>(stages.size());
            GatewayError refusal = runRequestPhase(exchange, forwarded);
            if (refusal != null) {
                refuse(exchange, sink, refusal, stoppedBy(forwarded));
                return true;
            }
            List<Stage> responseStages = forwarded.reversed();
            if (eventLoop != null && governedStreamsOnLoop && streamsOnEventLoop(exchange, responseStages)) {
                eventLoop.execute(() -> guardedOnLoop(exchange, sink, blocking,
                        () -> openOnEventLoop(exchange, sink, responseStages, blocking)));
                return false;
            }
            stream(exchange, sink, responseStages);
            return true;
        });
    }

    private boolean streamsOnEventLoop(Exchange exchange, List<Stage> responseStages) {
        if (!exchange.incoming().stream() || !dispatcher.opensWithoutBlocking(exchange)) {
            return false;
        }
        for (Stage stage : responseStages) {
            if (stage.mayAskForRetry(exchange)) {
                return false;
            }
        }
        return true;
    }

    /**
     * As {@link #execute}, called on the event loop of the request's connection, for a pipeline
     * whose stages never block ({@link #neverBlocks}): the stages run here, and where the
     * dispatcher can open the engine without blocking, its answer is served here as it arrives
     * (streamed or not), so the request never leaves this thread. Otherwise (a backend that only
     * opens blocking) the rest of the exchange runs on a thread from {@code blocking}, as
     * {@code execute} would run it. Never throws.
     */
    public void executeOnEventLoop(Exchange exchange, ClientSink sink, Executor blocking) {
        if (!neverBlocks) {
            throw new IllegalStateException("a stage of this pipeline blocks; use execute on a virtual thread");
        }
        guardedOnLoop(exchange, sink, blocking, () -> {
            List<Stage> forwarded = new ArrayList<>(stages.size());
            GatewayError refusal = runRequestPhase(exchange, forwarded);
            if (refusal != null) {
                refuse(exchange, sink, refusal, stoppedBy(forwarded));
                return true;
            }
            return openOnEventLoop(exchange, sink, forwarded.reversed(), blocking);
        });
    }

    /**
     * On the event loop: opens the engine without blocking and serves its answer here as it
     * arrives ({@link LoopServing}); when the dispatcher cannot open it here, serves it on a thread
     * from {@code blocking}. True when the exchange already ended here.
     */
    private boolean openOnEventLoop(Exchange exchange, ClientSink sink, List<Stage> responseStages, Executor blocking) {
        Span span = tracer.spanBuilder("cleargate.engine").startSpan();
        CompletionStage<EngineStream> opening;
        try (Scope ignored = span.makeCurrent()) {
            opening = dispatcher.openWithoutBlocking(exchange);
        } catch (RuntimeException e) {
            span.end();
            throw e;
        }
        if (opening == null) {
            span.end();
            blocking.execute(() -> guarded(exchange, sink, () -> {
                stream(exchange, sink, responseStages);
                return true;
            }));
            return false;
        }
        opening.whenComplete((engine, failure) -> guardedOnLoop(exchange, sink, blocking, () -> {
            if (failure == null) {
                var serving = new LoopServing(exchange, sink, responseStages, span, new Answer(engine), blocking);
                try {
                    serving.start();
                } catch (RuntimeException e) {
                    engine.close(); // its backend slot goes back; the exchange is answered and completed below
                    throw e;
                }
                return false;
            }
            try (Scope ignored = span.makeCurrent()) {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                if (cause instanceof GatewayException e) {
                    refuse(exchange, sink, e.error(), "dispatcher");
                } else if (cause instanceof RuntimeException e) {
                    throw e;
                } else {
                    throw new IllegalStateException(cause);
                }
            } finally {
                endEngineSpan(span, exchange);
            }
            return true;
        }));
        return false;
    }

    /** A piece of an exchange's work; true when the exchange ended in it, false when another piece goes on with it. */
    @FunctionalInterface
    private interface Work {
        boolean run();
    }

    /**
     * Runs {@code work}; whatever it throws becomes a 500 if nothing was answered; then completes the
     * exchange, unless the work handed it on.
     */
    private void guarded(Exchange exchange, ClientSink sink, Work work) {
        boolean ended = true;
        try {
            ended = work.run();
        } catch (RuntimeException e) {
            failedInside(exchange, sink, e);
        } finally {
            if (ended) {
                complete(exchange);
            }
        }
    }

    /**
     * As {@link #guarded}, on an event loop: the completion, where stages may block (audit records a
     * refusal durably), runs on a thread from {@code blocking} unless no stage blocks.
     */
    private void guardedOnLoop(Exchange exchange, ClientSink sink, Executor blocking, Work work) {
        boolean ended = true;
        try {
            ended = work.run();
        } catch (RuntimeException e) {
            failedInside(exchange, sink, e);
        } finally {
            if (ended) {
                completeOffLoop(exchange, blocking);
            }
        }
    }

    /** Completes the exchange from an event loop: here when no stage blocks, else on a thread from {@code blocking}. */
    private void completeOffLoop(Exchange exchange, Executor blocking) {
        if (neverBlocks) {
            complete(exchange);
        } else {
            blocking.execute(() -> complete(exchange));
        }
    }

    private void failedInside(Exchange exchange, ClientSink sink, RuntimeException e) {
        LOG.errorf(e, "request %s failed inside the pipeline", exchange.requestId());
        if (exchange.outcome() == null) {
            refuse(exchange, sink, GatewayError.internal("Internal gateway error."), "pipeline");
        }
    }

    private String stoppedBy(List<Stage> forwarded) {
        return forwarded.size() < stages.size() ? stages.get(forwarded.size()).name().id() : "dispatcher";
    }

    private GatewayError runRequestPhase(Exchange exchange, List<Stage> forwarded) {
        for (Stage stage : stages) {
            StageResult result;
            Span span = tracer.spanBuilder(stage.name().spanName()).startSpan();
            try (Scope ignored = span.makeCurrent()) {
                result = stage.onRequest(exchange);
            } catch (GatewayException e) {
                result = StageResult.shortCircuit(e.error());
            }
            describe(span, stage, result);
            span.end();
            switch (result) {
                case StageResult.ShortCircuit(GatewayError error) -> {
                    return error;
                }
                case StageResult.Forward(var rewritten) -> {
                    if (rewritten != null) {
                        exchange.engineRequest(rewritten);
                    }
                    forwarded.add(stage);
                }
            }
        }
        return null;
    }

    /** Spans carry stage names, decisions and codes only: never prompt or output text. */
    private static void describe(Span span, Stage stage, StageResult result) {
        span.setAttribute("cleargate.stage", stage.name().id());
        if (result instanceof StageResult.ShortCircuit(GatewayError error)) {
            span.setAttribute("cleargate.result", "short-circuit");
            span.setAttribute("cleargate.error.code", String.valueOf(error.code()));
            span.setAttribute("http.response.status_code", error.status());
            span.setStatus(StatusCode.ERROR);
        } else {
            span.setAttribute("cleargate.result", "forward");
        }
    }

    private void refuse(Exchange exchange, ClientSink sink, GatewayError error, String stoppedBy) {
        exchange.outcome(new Exchange.Outcome(error.status(), error, null, true, stoppedBy));
        sink.fail(error, exchange.responseHeaders(), false);
    }

    private void stream(Exchange exchange, ClientSink sink, List<Stage> responseStages) {
        Span span = tracer.spanBuilder("cleargate.engine").startSpan();
        try (Scope ignored = span.makeCurrent()) {
            streamTraced(exchange, sink, responseStages, span);
        } finally {
            endEngineSpan(span, exchange);
        }
    }

    private static void endEngineSpan(Span span, Exchange exchange) {
        var outcome = exchange.outcome();
        if (outcome != null) {
            span.setAttribute("http.response.status_code", outcome.status());
            span.setAttribute("cleargate.complete", outcome.complete());
            if (outcome.finishReason() != null) {
                span.setAttribute("cleargate.finish_reason", outcome.finishReason());
            }
        }
        span.end();
    }

    private void streamTraced(Exchange exchange, ClientSink sink, List<Stage> responseStages, Span span) {
        EngineStream engine;
        try {
            engine = dispatcher.open(exchange);
        } catch (GatewayException e) {
            // Nothing reached the client: the response stages never see a chunk, but audit still
            // records the refusal in onComplete.
            refuse(exchange, sink, e.error(), "dispatcher");
            return;
        }
        serve(exchange, sink, responseStages, span, engine);
    }

    /** Serves the opened engine's answer through the response stages to the sink, on this (virtual) thread. */
    private void serve(Exchange exchange, ClientSink sink, List<Stage> responseStages, Span span, EngineStream engine) {
        Answer answer = new Answer(engine);
        describeRoute(exchange, span);
        sink.onGone(answer::close);
        try (answer) {
            serveFrom(exchange, sink, responseStages, span, answer, true);
        }
    }

    private static void describeRoute(Exchange exchange, Span span) {
        exchange.get(Exchange.ROUTE).ifPresent(route -> {
            span.setAttribute("cleargate.backend", route.backendId());
            span.setAttribute("cleargate.region", route.region());
        });
    }

    /**
     * Reads the answer's events on this thread, blocking, until the exchange ends. {@code mayRetry}
     * false: a stage's retry is not honoured (the exchange was served on an event loop first, which
     * only happens when no stage may ask for one).
     */
    private void serveFrom(Exchange exchange, ClientSink sink, List<Stage> responseStages, Span span, Answer answer,
            boolean mayRetry) {
        try {
            while (true) {
                EngineEvent event = answer.engine.next();
                exchange.countEngineOutput(event);
                ChunkResult result = new Passage(toChunk(event), responseStages)
                        .run(exchange, () -> mayRetry && answer.another(exchange, span), true);
                if (deliver(exchange, sink, answer, result)) {
                    return;
                }
            }
        } catch (EngineException e) {
            engineFailed(exchange, sink, answer, e);
        }
    }

    /** Sends what the response stages let through; true when the exchange is over (answered, failed, client gone). */
    private static boolean deliver(Exchange exchange, ClientSink sink, Answer answer, ChunkResult result) {
        if (result instanceof ChunkResult.Fail(GatewayError error)) {
            exchange.outcome(new Exchange.Outcome(answer.started ? 200 : error.status(), error, "error", false,
                    "response-stage"));
            sink.fail(error, exchange.responseHeaders(), answer.started);
            return true;
        }
        for (ResponseChunk chunk : ((ChunkResult.Emit) result).chunks()) {
            if (!answer.started) {
                exchange.markFirstByte();
                sink.start(exchange.responseHeaders());
                answer.started = true;
            }
            if (!sink.chunk(chunk)) {
                clientGone(exchange);
                return true;
            }
            if (chunk.endOfStream()) {
                if (chunk.usage() != null) {
                    exchange.put(Exchange.USAGE, chunk.usage());
                }
                exchange.outcome(new Exchange.Outcome(200, null, chunk.finishReason(), true, null));
                sink.end();
                return true;
            }
        }
        if (sink.clientGone()) {
            clientGone(exchange);
            return true;
        }
        return false;
    }

    private static void engineFailed(Exchange exchange, ClientSink sink, Answer answer, EngineException e) {
        if (sink.clientGone()) {
            clientGone(exchange);
            return;
        }
        GatewayError error = EngineErrors.toGatewayError(e);
        exchange.outcome(new Exchange.Outcome(answer.started ? 200 : error.status(), error, "error", false, "engine"));
        sink.fail(error, exchange.responseHeaders(), answer.started);
    }

    /**
     * One answer served on the event loop its events arrive on: each event is read without
     * blocking ({@link EngineStream#poll}), passed through the response stages and written to the
     * client right there; when none is waiting, the loop goes on with other work until the stream
     * calls back. While the client's write queue is full, reading stops until it drains (the
     * upstream is then paused by its stream). A chunk some stage would block on moves the rest of
     * the answer to a thread from {@code blocking}, where it is served as {@link #serveFrom} serves
     * it. Confined to the loop; {@link #run} may be called again from its own callbacks.
     */
    private final class LoopServing {
        private final Exchange exchange;
        private final ClientSink sink;
        private final List<Stage> responseStages;
        private final Span span;
        private final Answer answer;
        private final Executor blocking;
        private boolean over;
        private boolean running;
        private boolean again;

        LoopServing(Exchange exchange, ClientSink sink, List<Stage> responseStages, Span span, Answer answer,
                Executor blocking) {
            this.exchange = exchange;
            this.sink = sink;
            this.responseStages = responseStages;
            this.span = span;
            this.answer = answer;
            this.blocking = blocking;
        }

        void start() {
            describeRoute(exchange, span);
            sink.onGone(() -> {
                answer.close();
                run(); // reads the closed stream's end, so the exchange is completed as a client gone
            });
            run();
        }

        void run() {
            if (over) {
                return;
            }
            if (running) {
                again = true; // called back from within: the running pass goes round once more
                return;
            }
            running = true;
            try (Scope ignored = span.makeCurrent()) {
                do {
                    again = false;
                    drain();
                } while (again && !over);
            } catch (RuntimeException e) {
                failedInside(exchange, sink, e);
                end();
            } finally {
                running = false;
            }
        }

        private void drain() {
            while (!over) {
                if (!sink.writable()) {
                    sink.whenWritable(this::run);
                    return;
                }
                EngineEvent event;
                try {
                    event = answer.engine.polls() ? answer.engine.poll(this::run) : answer.engine.next();
                } catch (EngineException e) {
                    engineFailed(exchange, sink, answer, e);
                    end();
                    return;
                }
                if (event == null) {
                    return; // the stream calls run() when the next event has come
                }
                exchange.countEngineOutput(event);
                Passage passage = new Passage(toChunk(event), responseStages);
                ChunkResult result = passage.run(exchange, () -> false, false);
                if (result == null) {
                    handOff(passage);
                    return;
                }
                if (deliver(exchange, sink, answer, result)) {
                    end();
                    return;
                }
            }
        }

        /** A stage blocks on the chunk in {@code passage}: it and the rest of the answer go on a virtual thread. */
        private void handOff(Passage passage) {
            over = true;
            blocking.execute(() -> guarded(exchange, sink, () -> {
                try (answer; Scope ignored = span.makeCurrent()) {
                    if (!deliver(exchange, sink, answer, passage.run(exchange, () -> false, true))) {
                        serveFrom(exchange, sink, responseStages, span, answer, false);
                    }
                } finally {
                    endEngineSpan(span, exchange);
                }
                return true;
            }));
        }

        /** The exchange ended on the loop: the engine is closed, and the stages complete (on a virtual thread if any may block). */
        private void end() {
            over = true;
            answer.close();
            endEngineSpan(span, exchange);
            completeOffLoop(exchange, blocking);
        }
    }

    /** At most this many times per request may a stage have the answer generated again ({@link ChunkResult.Retry}). */
    static final int MAX_RETRIES = 1;

    /** The engine stream the response is read from, replaced when a stage's retry is honoured. */
    private final class Answer implements AutoCloseable {
        private volatile EngineStream engine;
        private boolean started;
        private int retries;

        Answer(EngineStream engine) {
            this.engine = engine;
        }

        /** Switches to another backend's answer if nothing went out yet and one is eligible; false otherwise. */
        boolean another(Exchange exchange, Span span) {
            if (started || retries >= MAX_RETRIES) {
                return false;
            }
            retries++;
            var next = dispatcher.openAnother(exchange);
            if (next.isEmpty()) {
                return false;
            }
            engine.close();
            engine = next.get();
            span.setAttribute("cleargate.retried", true);
            exchange.get(Exchange.ROUTE).ifPresent(route -> span.setAttribute("cleargate.backend", route.backendId()));
            return true;
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    private static void clientGone(Exchange exchange) {
        exchange.outcome(new Exchange.Outcome(499, null, null, false, "client-disconnected"));
    }

    private static ResponseChunk toChunk(EngineEvent event) {
        return switch (event) {
            case EngineEvent.Delta(String text) -> ResponseChunk.text(text);
            case EngineEvent.ToolCallDelta delta -> ResponseChunk.toolCall(delta);
            case EngineEvent.Logprobs(var tokens) -> ResponseChunk.logprobs(tokens);
            case EngineEvent.Embedding embedding -> ResponseChunk.embedding(embedding);
            case EngineEvent.Finish(String reason, EngineEvent.Usage usage) -> ResponseChunk.end(reason, usage);
            case EngineEvent.OfChoice(int index, EngineEvent inner) -> toChunk(inner).withChoice(index);
            case EngineEvent.ChoiceFinish(int index, String reason) -> ResponseChunk.choiceEnd(index, reason);
        };
    }

    /**
     * One engine chunk on its way through the response stages (already reversed); each stage may
     * emit 0..n chunks. A stage's {@link ChunkResult.Retry} is put to {@code retry}: when another
     * backend will answer, nothing goes on now; otherwise the stage's fallback goes on as its
     * emission. On an event loop, the passage stops before a stage that would block on its chunk
     * ({@link Stage#blocksOn}) and goes on from there when run again where blocking is allowed.
     */
    private static final class Passage {
        private final List<Stage> reversed;
        private List<ResponseChunk> current;
        private List<ResponseChunk> next = new ArrayList<>(2);
        private int stage;
        private int at;

        Passage(ResponseChunk chunk, List<Stage> reversed) {
            this.current = List.of(chunk);
            this.reversed = reversed;
        }

        /** What the last stage emits, or a failure; null when {@code mayBlock} is false and the next stage would block. */
        ChunkResult run(Exchange exchange, java.util.function.BooleanSupplier retry, boolean mayBlock) {
            for (; stage < reversed.size(); stage++) {
                Stage s = reversed.get(stage);
                boolean ended = false;
                for (; at < current.size() && !ended; at++) {
                    ResponseChunk c = current.get(at);
                    if (!mayBlock && s.blocksOn(c)) {
                        return null;
                    }
                    ChunkResult result;
                    try {
                        result = s.onResponse(exchange, c);
                    } catch (GatewayException e) {
                        result = ChunkResult.fail(e.error());
                    }
                    if (result instanceof ChunkResult.Fail) {
                        return result;
                    }
                    List<ResponseChunk> emitted;
                    if (result instanceof ChunkResult.Retry(var fallback)) {
                        // Only the stage next to the engine can have held the whole answer from the stages after it.
                        if (stage == 0 && retry.getAsBoolean()) {
                            return ChunkResult.hold();
                        }
                        emitted = fallback;
                    } else {
                        emitted = ((ChunkResult.Emit) result).chunks();
                    }
                    for (ResponseChunk e : emitted) {
                        next.add(e);
                        if (e.endOfStream()) {
                            break; // a stage ended the response early; nothing after it is released
                        }
                    }
                    ended = !next.isEmpty() && next.getLast().endOfStream();
                }
                current = next;
                next = new ArrayList<>(2);
                at = 0;
            }
            return ChunkResult.emit(current);
        }
    }

    private void complete(Exchange exchange) {
        if (exchange.outcome() == null) {
            exchange.outcome(new Exchange.Outcome(500, GatewayError.internal("Internal gateway error."), null, false,
                    "pipeline"));
        }
        for (Stage stage : stages.reversed()) {
            try {
                stage.onComplete(exchange);
            } catch (RuntimeException e) {
                LOG.errorf(e, "stage %s failed to complete request %s", stage.name().id(), exchange.requestId());
            }
        }
        for (CompletionObserver observer : observers) {
            try {
                observer.completed(exchange);
            } catch (RuntimeException e) {
                LOG.errorf(e, "completion observer %s failed on request %s", observer.getClass().getName(),
                        exchange.requestId());
            }
        }
    }
}
