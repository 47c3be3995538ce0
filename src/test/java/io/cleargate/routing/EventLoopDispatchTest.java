package io.cleargate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.engine.openai.OpenAiUpstreamFactory;
import io.cleargate.engine.openai.UpstreamLimits;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.EngineErrors;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.testsupport.CapturingSink;
import io.cleargate.testsupport.MockUpstream;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pipeline whose stages never block (every governance stage switched off: routing alone) serves
 * a request on the event loop that read it, through Vert.x's client, against real HTTP backends on
 * loopback, streamed or not; what the client gets (answer, headers, failover, refusals, a stream's
 * chunks and its failures) is what the blocking path gives. A governed pipeline runs its request
 * phase on a virtual thread, then serves a stream's chunks on the event loop, and only what a stage
 * blocks on (the end that audit makes durable) and the completion on a virtual thread again.
 */
class EventLoopDispatchTest {

    private final Map<String, MockUpstream> mocks = new LinkedHashMap<>();
    private Vertx vertx;
    private BackendPool pool;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        for (String id : List.of("eu-west-1", "eu-central-1")) {
            mocks.put(id, MockUpstream.start(id));
        }
    }

    @AfterEach
    void stop() {
        if (pool != null) {
            pool.close();
        }
        mocks.values().forEach(MockUpstream::close);
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /** Routing alone over the two mocks; {@code limits} for every backend; engines that can use {@code vertx}. */
    private Pipeline pipeline(UpstreamLimits limits, Vertx withVertx) {
        var engines = new LinkedHashMap<Backend, Engine>();
        int weight = 2;
        for (var e : mocks.entrySet()) {
            var backend = new Backend(e.getKey(), Backend.Kind.OPENAI, Optional.of(e.getValue().baseUrl()), Optional.empty(),
                    List.of("mock"), "eu-west", "EU", weight--, 64, Optional.empty());
            engines.put(backend, withVertx == null ? OpenAiUpstreamFactory.create(backend, limits, new ObjectMapper())
                    : OpenAiUpstreamFactory.create(backend, limits, new ObjectMapper(), withVertx));
        }
        var registry = new EngineRegistry(engines);
        pool = new BackendPool(registry, TestRoutingConfig.defaults().withHealthInterval(Duration.ofSeconds(60)).withFailureThreshold(1000), null);
        return new Pipeline(List.of(new RoutingStage(registry)), new RegionDispatcher(pool, 3));
    }

    private static UpstreamLimits limits(Duration firstByte, long maxBytes) {
        return new UpstreamLimits(Duration.ofSeconds(1), firstByte, firstByte, Duration.ofSeconds(10), maxBytes);
    }

    private static Exchange exchange(boolean stream) {
        var request = new EngineRequest("mock", List.of(new ChatMessage(ChatMessage.Role.USER, "hello there")), 32,
                null, null, null, null);
        return new Exchange("req-" + System.nanoTime(), new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(),
                "mock", stream, Map.of()), request);
    }

    /** Runs the exchange from an event loop; records where the sink was written and whether the fallback ran. */
    private Served onEventLoop(Pipeline pipeline, Exchange exchange) throws InterruptedException {
        var served = new Served();
        var fallbacks = new AtomicInteger();
        Executor blocking = task -> {
            fallbacks.incrementAndGet();
            Thread.ofVirtual().start(task);
        };
        vertx.runOnContext(v -> pipeline.executeOnEventLoop(exchange, served, blocking));
        assertTrue(served.done.await(10, TimeUnit.SECONDS), "the exchange ended");
        served.fallbacks = fallbacks.get();
        return served;
    }

    @Test
    void aBareRequestIsServedWithoutLeavingTheEventLoopThatReadIt() throws Exception {
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx);
        assertTrue(pipeline.neverBlocks());
        Exchange exchange = exchange(false);

        Served served = onEventLoop(pipeline, exchange);

        assertNull(served.error);
        assertEquals(0, served.fallbacks, "no virtual thread was needed");
        assertTrue(served.threads.stream().allMatch(t -> t.startsWith("vert.x-eventloop-thread")), served.threads.toString());
        assertEquals(MockUpstream.COMPLETION.length() > 0, !served.text().isEmpty());
        assertEquals(200, exchange.outcome().status());
        assertTrue(exchange.outcome().complete());
        assertEquals("eu-west-1", served.headers.get("x-cleargate-backend"));
        assertEquals(1, mocks.get("eu-west-1").requests());
    }

    @Test
    void theEventLoopAnswerEqualsTheBlockingPathsAnswer() throws Exception {
        Pipeline onLoop = pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx);
        Served served = onEventLoop(onLoop, exchange(false));
        pool.close();
        var blockingSink = new CapturingSink();
        pipeline(limits(Duration.ofSeconds(1), 1 << 20), null).execute(exchange(false), blockingSink);

        assertEquals(blockingSink.text(), served.text());
        assertEquals(blockingSink.headers, served.headers);
        assertEquals(blockingSink.chunks.getLast().finishReason(), served.chunks.getLast().finishReason());
    }

    @Test
    void aBackendFailingBeforeItsAnswerIsFailedOverOnTheEventLoop() throws Exception {
        mocks.get("eu-west-1").fault(MockUpstream.Fault.STATUS_500);
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx);
        Exchange exchange = exchange(false);

        Served served = onEventLoop(pipeline, exchange);

        assertNull(served.error);
        assertEquals(0, served.fallbacks);
        assertEquals("eu-central-1", served.headers.get("x-cleargate-backend"));
        assertEquals("eu-west-1,eu-central-1", served.headers.get("x-cleargate-failover"));
        assertEquals(1, mocks.get("eu-west-1").requests());
        assertFalse(served.text().isEmpty());
    }

    @Test
    void backendsThatNeverAnswerAreRefusedWithTheTimeoutTheBlockingPathReports() throws Exception {
        mocks.values().forEach(m -> m.fault(MockUpstream.Fault.HANG));
        Pipeline pipeline = pipeline(limits(Duration.ofMillis(300), 1 << 20), vertx);
        Exchange exchange = exchange(false);
        long start = System.nanoTime();

        Served served = onEventLoop(pipeline, exchange);

        assertNotNull(served.error);
        assertEquals(503, served.error.status());
        assertEquals("no_eligible_backend", served.error.code());
        GatewayError timeout = EngineErrors.toGatewayError(new EngineException(EngineException.Kind.TIMEOUT, "t"));
        assertEquals(timeout.code(), served.error.details().get("last_error_code"));
        assertEquals(List.of("eu-west-1", "eu-central-1"), served.error.details().get("tried_backends"));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "each attempt ended at its first-byte timeout");
        assertEquals(503, exchange.outcome().status());
    }

    @Test
    void anAnswerOverTheSizeCapIsRefusedAsTooLarge() throws Exception {
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 200), vertx);

        Served served = onEventLoop(pipeline, exchange(false));

        assertNotNull(served.error);
        GatewayError tooLarge = EngineErrors.toGatewayError(new EngineException(EngineException.Kind.TOO_LARGE, "t"));
        assertEquals(tooLarge.code(), served.error.details().get("last_error_code"));
    }

    @Test
    void aBareStreamIsServedOnTheEventLoopItsUpstreamAnswersOn() throws Exception {
        mocks.get("eu-west-1").streaming(16, 2);
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx);
        Exchange exchange = exchange(true);

        Served served = onEventLoop(pipeline, exchange);

        assertNull(served.error);
        assertEquals(0, served.fallbacks, "no virtual thread was needed");
        assertTrue(served.threads.stream().allMatch(t -> t.startsWith("vert.x-eventloop-thread")), served.threads.toString());
        assertEquals(MockUpstream.COMPLETION, served.text());
        assertTrue(served.chunks.size() > 16, "the chunks went out as they came: " + served.chunks.size());
        assertEquals(200, exchange.outcome().status());
        assertTrue(exchange.outcome().complete());
        assertEquals("stop", served.chunks.getLast().finishReason());
        assertEquals(1, mocks.get("eu-west-1").requests());
        assertEquals(0, mocks.get("eu-west-1").aborted(), "a stream read to its end is not an abort");
    }

    @Test
    void aStreamServedOnTheEventLoopEqualsTheBlockingPathsStream() throws Exception {
        mocks.get("eu-west-1").streaming(12, 1);
        Served served = onEventLoop(pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx), exchange(true));
        pool.close();
        var blockingSink = new CapturingSink();
        pipeline(limits(Duration.ofSeconds(1), 1 << 20), null).execute(exchange(true), blockingSink);

        assertEquals(blockingSink.chunks.stream().map(ResponseChunk::text).toList(),
                served.chunks.stream().map(ResponseChunk::text).toList());
        assertEquals(blockingSink.headers, served.headers);
        assertEquals(blockingSink.chunks.getLast().usage(), served.chunks.getLast().usage());
    }

    @Test
    void aStreamThatStallsIsEndedAtTheBetweenChunkTimeoutWithAnErrorAfterWhatWentOut() throws Exception {
        mocks.values().forEach(m -> m.streaming(4, 1500));
        Pipeline pipeline = pipeline(limits(Duration.ofMillis(300), 1 << 20), vertx);
        Exchange exchange = exchange(true);
        long start = System.nanoTime();

        Served served = onEventLoop(pipeline, exchange);

        assertNotNull(served.error);
        GatewayError timeout = EngineErrors.toGatewayError(new EngineException(EngineException.Kind.TIMEOUT, "t"));
        assertEquals(timeout.code(), served.error.code());
        assertTrue(served.started, "the first chunk had gone out: the error ends the stream");
        assertFalse(served.text().isEmpty());
        assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(1400), "ended at the 300 ms timeout");
        assertEquals(200, exchange.outcome().status());
        assertFalse(exchange.outcome().complete());
        assertEquals(0, served.fallbacks);
    }

    @Test
    void aStreamOverTheSizeCapIsCutOffAsTooLarge() throws Exception {
        mocks.values().forEach(m -> m.fault(MockUpstream.Fault.ENDLESS).streaming(1, 0));
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 8192), vertx);

        Served served = onEventLoop(pipeline, exchange(true));

        assertNotNull(served.error);
        GatewayError tooLarge = EngineErrors.toGatewayError(new EngineException(EngineException.Kind.TOO_LARGE, "t"));
        assertEquals(tooLarge.code(), served.error.code());
        assertTrue(served.text().length() < 8192, "no more than the cap went out");
    }

    @Test
    void aClientLeavingMidStreamAbortsTheUpstreamRequest() throws Exception {
        MockUpstream mock = mocks.get("eu-west-1");
        mock.fault(MockUpstream.Fault.ENDLESS).streaming(1, 2);
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx);
        Exchange exchange = exchange(true);
        var served = new Served();
        served.goneAfter = 5;

        vertx.runOnContext(v -> pipeline.executeOnEventLoop(exchange, served, Thread.ofVirtual()::start));

        assertTrue(served.completed.await(10, TimeUnit.SECONDS), "the client left");
        assertEquals(499, awaitOutcome(exchange).status());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (mock.aborted() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, mock.aborted(), "the upstream saw its request cancelled");
    }

    @Test
    void aGovernedStreamIsServedOnTheEventLoopAndOnlyItsDurableEndOnAVirtualThread() throws Exception {
        mocks.get("eu-west-1").streaming(10, 2);
        var audit = new EndBlockingStage(false);
        Pipeline pipeline = governed(audit);
        Exchange exchange = exchange(true);
        var served = new Served();

        Thread.ofVirtual().start(() -> pipeline.execute(exchange, served, onLoop(), Thread.ofVirtual()::start));

        assertTrue(audit.completedLatch.await(10, TimeUnit.SECONDS));
        assertNull(served.error);
        assertEquals(MockUpstream.COMPLETION, served.text());
        List<String> textThreads = served.chunkThreads.subList(0, served.chunkThreads.size() - 1);
        assertTrue(textThreads.stream().allMatch(t -> t.startsWith("vert.x-eventloop-thread")), textThreads.toString());
        assertTrue(audit.endThread.startsWith("virtual:"), "the durable end ran off the loop: " + audit.endThread);
        assertFalse(served.chunkThreads.getLast().startsWith("vert.x"), "so did its writing: " + served.chunkThreads);
        assertTrue(audit.completeThread.startsWith("virtual:"), "completion may block: " + audit.completeThread);
        assertTrue(audit.responseThreads.stream().filter(t -> t.startsWith("vert.x")).count() >= 10,
                "every text chunk was seen on the loop: " + audit.responseThreads);
        assertTrue(exchange.outcome().complete());
    }

    @Test
    void aStreamAStageMayAskAgainForStaysOnItsVirtualThread() throws Exception {
        mocks.get("eu-west-1").streaming(6, 1);
        var audit = new EndBlockingStage(true);
        Pipeline pipeline = governed(audit);
        var served = new Served();

        Thread.ofVirtual().name("request").start(() -> pipeline.execute(exchange(true), served, onLoop(),
                Thread.ofVirtual()::start));

        assertTrue(served.completed.await(10, TimeUnit.SECONDS));
        assertEquals(MockUpstream.COMPLETION, served.text());
        assertTrue(served.chunkThreads.stream().allMatch("request"::equals), served.chunkThreads.toString());
    }

    @Test
    void aStageEndingAGovernedStreamEarlyHasItsEndMadeDurableOffTheLoopAndTheUpstreamAborted() throws Exception {
        MockUpstream mock = mocks.get("eu-west-1");
        mock.fault(MockUpstream.Fault.ENDLESS).streaming(1, 2);
        var audit = new EndBlockingStage(false);
        Stage filter = new Stage() {
            private int seen;

            @Override
            public StageName name() {
                return StageName.OUTPUT_MODERATION;
            }

            @Override
            public boolean blocksOn(ResponseChunk chunk) {
                return false;
            }

            @Override
            public io.cleargate.pipeline.ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
                return ++seen < 4 ? io.cleargate.pipeline.ChunkResult.pass(chunk)
                        : io.cleargate.pipeline.ChunkResult.emit(List.of(ResponseChunk.end("content_filter", null)));
            }
        };
        var registry = pipelineRegistry();
        Pipeline pipeline = new Pipeline(List.of(new RoutingStage(registry), audit, filter), new RegionDispatcher(pool, 3));
        Exchange exchange = exchange(true);
        var served = new Served();

        Thread.ofVirtual().start(() -> pipeline.execute(exchange, served, onLoop(), Thread.ofVirtual()::start));

        assertTrue(audit.completedLatch.await(10, TimeUnit.SECONDS));
        assertEquals("content_filter", served.chunks.getLast().finishReason());
        assertEquals("endless endless endless ", served.text());
        assertTrue(audit.endThread.startsWith("virtual:"), audit.endThread);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (mock.aborted() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, mock.aborted(), "the generation was cancelled");
    }

    private static Exchange.Outcome awaitOutcome(Exchange exchange) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (exchange.outcome() == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertNotNull(exchange.outcome(), "the exchange ended");
        return exchange.outcome();
    }

    /** Runs tasks on the test's Vert.x event loop, as the routes hand a stream to its connection's loop. */
    private Executor onLoop() {
        io.vertx.core.Context context = vertx.getOrCreateContext();
        return task -> context.runOnContext(v -> task.run());
    }

    private EngineRegistry pipelineRegistry() {
        var engines = new LinkedHashMap<Backend, Engine>();
        int weight = 2;
        for (var e : mocks.entrySet()) {
            var backend = new Backend(e.getKey(), Backend.Kind.OPENAI, Optional.of(e.getValue().baseUrl()), Optional.empty(),
                    List.of("mock"), "eu-west", "EU", weight--, 64, Optional.empty());
            engines.put(backend, OpenAiUpstreamFactory.create(backend, limits(Duration.ofSeconds(1), 1 << 20),
                    new ObjectMapper(), vertx));
        }
        var registry = new EngineRegistry(engines);
        pool = new BackendPool(registry, TestRoutingConfig.defaults().withHealthInterval(Duration.ofSeconds(60)).withFailureThreshold(1000), null);
        return registry;
    }

    /** Routing and a stage that blocks as audit does: in its request phase and on the answer's end. */
    private Pipeline governed(EndBlockingStage audit) {
        var registry = pipelineRegistry();
        return new Pipeline(List.of(new RoutingStage(registry), audit), new RegionDispatcher(pool, 3));
    }

    /** Blocks like audit (request phase, the end of the answer, completion) and records where each ran. */
    private static final class EndBlockingStage implements Stage {
        private final boolean mayRetry;
        final List<String> responseThreads = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile String endThread = "";
        volatile String completeThread = "";
        final CountDownLatch completedLatch = new CountDownLatch(1);

        EndBlockingStage(boolean mayRetry) {
            this.mayRetry = mayRetry;
        }

        @Override
        public StageName name() {
            return StageName.AUDIT;
        }

        @Override
        public boolean blocksOn(ResponseChunk chunk) {
            return chunk.endOfStream();
        }

        @Override
        public boolean mayAskForRetry(Exchange exchange) {
            return mayRetry;
        }

        @Override
        public io.cleargate.pipeline.ChunkResult onResponse(Exchange exchange, ResponseChunk chunk) {
            String thread = Thread.currentThread().getName();
            responseThreads.add(thread);
            if (chunk.endOfStream()) {
                if (thread.startsWith("vert.x")) {
                    throw new AssertionError("the end was made durable on the event loop");
                }
                endThread = Thread.currentThread().isVirtual() ? "virtual:" + thread : thread;
            }
            return io.cleargate.pipeline.ChunkResult.pass(chunk);
        }

        @Override
        public void onComplete(Exchange exchange) {
            completeThread = Thread.currentThread().isVirtual() ? "virtual:" + Thread.currentThread().getName()
                    : Thread.currentThread().getName();
            completedLatch.countDown();
        }
    }

    @Test
    void aPipelineWithABlockingStageRefusesToRunOnTheEventLoop() {
        var registry = new EngineRegistry(Map.of());
        Stage blocking = () -> StageName.AUDIT;
        var pipeline = new Pipeline(List.of(blocking, new RoutingStage(registry)), exchange -> {
            throw new AssertionError("never opened");
        });
        assertFalse(pipeline.neverBlocks());
        assertThrows(IllegalStateException.class, () -> pipeline.executeOnEventLoop(exchange(false), new CapturingSink(),
                Runnable::run));
    }

    /** A sink that records the threads it was written from and signals the end of the exchange. */
    private static final class Served implements ClientSink {
        final List<ResponseChunk> chunks = new ArrayList<>();
        final List<String> threads = new ArrayList<>();
        final Map<String, String> headers = new LinkedHashMap<>();
        final List<String> chunkThreads = new ArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);
        /** Counted down once the sink has seen the end and the exchange's outcome is set. */
        final CountDownLatch completed = new CountDownLatch(1);
        final List<Runnable> onGone = new ArrayList<>();
        volatile GatewayError error;
        volatile boolean started;
        volatile boolean gone;
        /** The client leaves after this many chunks (0: never). */
        int goneAfter;
        int fallbacks;

        @Override
        public synchronized void start(Map<String, String> h) {
            started = true;
            headers.putAll(h);
            threads.add(Thread.currentThread().getName());
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            List<Runnable> leaving = List.of();
            synchronized (this) {
                chunks.add(chunk);
                threads.add(Thread.currentThread().getName());
                chunkThreads.add(Thread.currentThread().getName());
                if (goneAfter > 0 && chunks.size() == goneAfter) {
                    gone = true;
                    leaving = List.copyOf(onGone);
                }
            }
            leaving.forEach(Runnable::run); // as the connection's close handler would, on this loop
            if (gone) {
                completed.countDown();
            }
            return !gone;
        }

        @Override
        public synchronized void end() {
            threads.add(Thread.currentThread().getName());
            done.countDown();
            completed.countDown();
        }

        @Override
        public synchronized void fail(GatewayError e, Map<String, String> h, boolean started) {
            error = e;
            headers.putAll(h);
            threads.add(Thread.currentThread().getName());
            done.countDown();
            completed.countDown();
        }

        @Override
        public boolean clientGone() {
            return gone;
        }

        @Override
        public synchronized void onGone(Runnable action) {
            onGone.add(action);
        }

        synchronized String text() {
            var text = new StringBuilder();
            chunks.forEach(c -> text.append(c.text()));
            return text.toString();
        }
    }
}
