package io.cleargate.engine.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Streamed answers read on a Vert.x event loop ({@link EventLoopClient#stream}) from a real HTTP
 * server on loopback (the JDK's): polled there or read blocking elsewhere, their connection kept
 * after [DONE], aborted when closed early, and paused while nobody reads.
 */
class LoopSseStreamTest {

    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final UpstreamLimits LIMITS = new UpstreamLimits(SECOND, SECOND, SECOND, Duration.ofSeconds(20), 64 << 20);
    private static final int FLOOD = 20_000;

    private SseUpstream upstream;
    private Vertx vertx;
    private EventLoopClient client;

    @BeforeEach
    void start() throws IOException {
        upstream = new SseUpstream();
        upstream.answer("/flood", body -> {
            for (int i = 0; i < FLOOD; i++) {
                body.write(SseUpstream.event(SseUpstream.delta("x")));
            }
            body.write(SseUpstream.event(SseUpstream.STOP));
            body.write(SseUpstream.event("[DONE]"));
        });
        URI base = upstream.start().base();
        vertx = Vertx.vertx();
        client = EventLoopClient.forOrigin(vertx, base.resolve("/v1"), "test", LIMITS);
    }

    @AfterEach
    void stop() {
        client.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
        upstream.close();
    }

    /** Runs {@code work} on the test's event loop and waits for the stage it returns. */
    private <T> T onLoop(Supplier<java.util.concurrent.CompletionStage<T>> work) throws Exception {
        var result = new CompletableFuture<T>();
        vertx.runOnContext(v -> work.get().whenComplete((value, failure) -> {
            if (failure != null) {
                result.completeExceptionally(failure);
            } else {
                result.complete(value);
            }
        }));
        return result.get(10, TimeUnit.SECONDS);
    }

    private EngineStream open(String path) throws Exception {
        return onLoop(() -> client.stream(path, Map.of("content-type", "application/json"), "{}".getBytes(StandardCharsets.UTF_8),
                new ObjectMapper(), 1));
    }

    /** Polls the stream on the loop, as the pipeline does, until its finish; the text and the number of text events. */
    private record Read(String text, int deltas) {}

    private Read pollToFinish(EngineStream stream) throws Exception {
        return onLoop(() -> {
            var done = new CompletableFuture<Read>();
            new Object() {
                final StringBuilder text = new StringBuilder();
                int deltas;

                void run() {
                    try {
                        EngineEvent event;
                        while ((event = stream.poll(this::run)) != null) {
                            if (event instanceof EngineEvent.Delta(String delta)) {
                                text.append(delta);
                                deltas++;
                            } else if (event instanceof EngineEvent.Finish) {
                                stream.close();
                                done.complete(new Read(text.toString(), deltas));
                                return;
                            }
                        }
                    } catch (EngineException e) {
                        done.completeExceptionally(e);
                    }
                }
            }.run();
            return done;
        });
    }

    @Test
    void streamsPolledToTheirEndOnTheLoopLeaveTheirConnectionForTheNext() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertEquals("word0 word1 word2 ", pollToFinish(open("/sse")).text());
            Thread.sleep(20); // the body's last, empty chunk hands the connection back
        }
        assertEquals(1, upstream.connections.size(), "five streamed answers, one keep-alive connection");
    }

    @Test
    void aStreamClosedBeforeItsEndAbortsTheUpstreamAndItsConnectionIsNotReused() throws Exception {
        EngineStream stream = open("/endless");
        assertEquals(1, pollToFirstText(stream));
        vertx.runOnContext(v -> stream.close());
        assertTrue(upstream.aborted.await(5, TimeUnit.SECONDS), "the upstream saw the abort");
        assertEquals("word0 word1 word2 ", pollToFinish(open("/sse")).text());
        assertEquals(2, upstream.connections.size(), "the aborted stream's connection was not reused");
    }

    /** Polls until the first text event; 1 when it came. */
    private int pollToFirstText(EngineStream stream) throws Exception {
        return onLoop(() -> {
            var first = new CompletableFuture<Integer>();
            new Object() {
                void run() {
                    try {
                        EngineEvent event;
                        while ((event = stream.poll(this::run)) != null) {
                            if (event instanceof EngineEvent.Delta) {
                                first.complete(1);
                                return;
                            }
                        }
                    } catch (EngineException e) {
                        first.completeExceptionally(e);
                    }
                }
            }.run();
            return first;
        });
    }

    @Test
    void whileNobodyReadsTheUpstreamIsPausedAndReadingAgainResumesIt() throws Exception {
        var stream = (LoopSseStream) open("/flood");
        Thread.sleep(500); // the server has written everything it could; nobody polls

        int waiting = onLoop(() -> CompletableFuture.completedFuture(stream.pending()));
        assertTrue(waiting < FLOOD / 4, "reading stopped near " + LoopSseStream.PAUSE_AT + " unread events: " + waiting);
        Read read = pollToFinish(stream);
        assertEquals(FLOOD, read.deltas(), "every event came once reading resumed");
    }

    @Test
    void aStreamOpenedOnTheLoopCanBeReadBlockingOnAnotherThread() throws Exception {
        EngineStream stream = open("/sse");
        var text = new StringBuilder();
        var done = new CompletableFuture<Void>();
        Thread.ofVirtual().start(() -> {
            try {
                EngineEvent event;
                while (!((event = stream.next()) instanceof EngineEvent.Finish)) {
                    text.append(((EngineEvent.Delta) event).text());
                }
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        done.get(10, TimeUnit.SECONDS);
        assertEquals("word0 word1 word2 ", text.toString());
        assertInstanceOf(LoopSseStream.class, stream);
    }
}
