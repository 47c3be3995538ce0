package io.cleargate.engine.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
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

    private HttpServer server;
    private Vertx vertx;
    private EventLoopClient client;
    private final Set<Object> connections = ConcurrentHashMap.newKeySet();
    private final CountDownLatch aborted = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/sse", exchange -> {
            connections.add(exchange.getRemoteAddress());
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 0); // chunked
            try (OutputStream body = exchange.getResponseBody()) {
                for (int i = 0; i < 3; i++) {
                    body.write(event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word" + i + " \"}}]}"));
                    body.flush();
                }
                body.write(event("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"));
                body.write(event("[DONE]"));
                body.flush();
            }
        });
        server.createContext("/endless", exchange -> {
            connections.add(exchange.getRemoteAddress());
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream body = exchange.getResponseBody()) {
                for (int i = 0; i < 10_000; i++) {
                    body.write(event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}"));
                    body.flush();
                    Thread.sleep(5);
                }
            } catch (IOException | InterruptedException e) {
                aborted.countDown(); // the client went away
            }
        });
        server.createContext("/flood", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream body = exchange.getResponseBody()) {
                for (int i = 0; i < FLOOD; i++) {
                    body.write(event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}"));
                }
                body.write(event("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"));
                body.write(event("[DONE]"));
            }
        });
        server.start();
        vertx = Vertx.vertx();
        client = EventLoopClient.forOrigin(vertx, URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1"),
                "test", LIMITS);
    }

    @AfterEach
    void stop() {
        client.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
        server.stop(0);
    }

    private static byte[] event(String data) {
        return ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
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
        assertEquals(1, connections.size(), "five streamed answers, one keep-alive connection");
    }

    @Test
    void aStreamClosedBeforeItsEndAbortsTheUpstreamAndItsConnectionIsNotReused() throws Exception {
        EngineStream stream = open("/endless");
        assertEquals(1, pollToFirstText(stream));
        vertx.runOnContext(v -> stream.close());
        assertTrue(aborted.await(5, TimeUnit.SECONDS), "the upstream saw the abort");
        assertEquals("word0 word1 word2 ", pollToFinish(open("/sse")).text());
        assertEquals(2, connections.size(), "the aborted stream's connection was not reused");
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
