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
 * a non-streamed request on the event loop that read it, through Vert.x's client, against real
 * HTTP backends on loopback; what the client gets (answer, headers, failover, refusals) is what
 * the blocking path gives. Streams still go to a virtual thread.
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
    void aStreamedRequestMovesToAVirtualThreadAndIsServedAsBefore() throws Exception {
        Pipeline pipeline = pipeline(limits(Duration.ofSeconds(1), 1 << 20), vertx);
        Exchange exchange = exchange(true);

        Served served = onEventLoop(pipeline, exchange);

        assertNull(served.error);
        assertEquals(1, served.fallbacks);
        assertTrue(served.threads.stream().noneMatch(t -> t.startsWith("vert.x-eventloop-thread")), served.threads.toString());
        assertFalse(served.text().isEmpty());
        assertTrue(exchange.outcome().complete());
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
        final CountDownLatch done = new CountDownLatch(1);
        volatile GatewayError error;
        int fallbacks;

        @Override
        public synchronized void start(Map<String, String> h) {
            headers.putAll(h);
            threads.add(Thread.currentThread().getName());
        }

        @Override
        public synchronized boolean chunk(ResponseChunk chunk) {
            chunks.add(chunk);
            threads.add(Thread.currentThread().getName());
            return true;
        }

        @Override
        public synchronized void end() {
            threads.add(Thread.currentThread().getName());
            done.countDown();
        }

        @Override
        public synchronized void fail(GatewayError e, Map<String, String> h, boolean started) {
            error = e;
            headers.putAll(h);
            threads.add(Thread.currentThread().getName());
            done.countDown();
        }

        @Override
        public boolean clientGone() {
            return false;
        }

        @Override
        public void onGone(Runnable action) {}

        synchronized String text() {
            var text = new StringBuilder();
            chunks.forEach(c -> text.append(c.text()));
            return text.toString();
        }
    }
}
