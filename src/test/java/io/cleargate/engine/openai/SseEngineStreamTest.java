package io.cleargate.engine.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.http.Http1Client;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Streamed answers read from a real HTTP server on loopback (the JDK's), through the upstream client's pool. */
class SseEngineStreamTest {

    private static final Duration SECOND = Duration.ofSeconds(1);
    private static final UpstreamLimits LIMITS = new UpstreamLimits(SECOND, SECOND, SECOND, Duration.ofSeconds(10), 1 << 20);

    private SseUpstream upstream;
    private URI base;

    @BeforeEach
    void start() throws IOException {
        upstream = new SseUpstream();
        upstream.answer("/stalls", body -> {
            body.write(SseUpstream.event(SseUpstream.delta("before ")));
            body.flush();
            // Silent, then one byte every 20 ms until the client goes away (which the writes then see).
            Thread.sleep(100);
            for (int i = 0; i < 500; i++) {
                body.write(':');
                body.flush();
                Thread.sleep(20);
            }
        });
        upstream.answer("/late-end", body -> {
            body.write(SseUpstream.event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"all \"},\"finish_reason\":\"stop\"}]}"));
            body.write(SseUpstream.event("[DONE]"));
            body.flush();
            Thread.sleep(150); // the chunked body's last chunk comes well after [DONE]
        });
        base = upstream.start().base();
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    private static SseEngineStream open(Http1Client client, URI uri) throws IOException {
        return open(client, uri, LIMITS);
    }

    private static SseEngineStream open(Http1Client client, URI uri, UpstreamLimits limits) throws IOException {
        var response = client.send("POST", uri, Map.of("content-type", "application/json"), "{}".getBytes(StandardCharsets.UTF_8),
                SECOND);
        assertEquals(200, response.status());
        return new SseEngineStream(response.body(), new ObjectMapper(), limits, System.nanoTime() + limits.total().toNanos(),
                "test", 1);
    }

    /** Reads events until the finish, as the pipeline does, and returns the text. */
    private static String readToFinish(SseEngineStream stream) throws EngineException {
        var text = new StringBuilder();
        while (true) {
            EngineEvent event = stream.next();
            if (event instanceof EngineEvent.Delta(String delta)) {
                text.append(delta);
            } else if (event instanceof EngineEvent.Finish) {
                stream.close();
                return text.toString();
            }
        }
    }

    @Test
    void streamsTheUpstreamEndedLeaveTheirConnectionForTheNextRequest() throws Exception {
        try (var client = new Http1Client(base, SECOND)) {
            for (int i = 0; i < 5; i++) {
                assertEquals("word0 word1 word2 ", readToFinish(open(client, base.resolve("/sse"))));
                // The reader hands the connection back once it has read the body's end.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                while (client.idleConnections() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
            }
        }
        assertEquals(1, upstream.connections.size(), "five streamed answers, one keep-alive connection");
    }

    @Test
    void aStreamClosedBeforeTheUpstreamEndedItAbortsTheUpstreamAndItsConnectionIsNotReused() throws Exception {
        try (var client = new Http1Client(base, SECOND)) {
            var stream = open(client, base.resolve("/endless"));
            assertInstanceOf(EngineEvent.Delta.class, stream.next());
            stream.close();
            assertTrue(upstream.aborted.await(5, TimeUnit.SECONDS), "the upstream saw the abort");
            assertEquals("word0 word1 word2 ", readToFinish(open(client, base.resolve("/sse"))));
        }
        assertEquals(2, upstream.connections.size(), "the aborted stream's connection was not reused");
    }

    /** Opens /stalls (one event, then silence, then a comment byte every 20 ms) and returns the timeout after its event. */
    private EngineException timeoutAfterTheFirstEvent(UpstreamLimits limits, String says) throws Exception {
        try (var client = new Http1Client(base, SECOND)) {
            var stream = open(client, base.resolve("/stalls"), limits);
            assertEquals(new EngineEvent.Delta("before "), stream.next());
            var timeout = assertThrows(EngineException.class, stream::next);
            assertEquals(EngineException.Kind.TIMEOUT, timeout.kind());
            assertTrue(timeout.getMessage().contains(says), timeout.getMessage());
            return timeout;
        }
    }

    @Test
    void anUpstreamSilentForTheBetweenChunkTimeoutEndsTheStreamAfterWhatItSentAndIsAborted() throws Exception {
        timeoutAfterTheFirstEvent(new UpstreamLimits(SECOND, SECOND, Duration.ofMillis(50), Duration.ofSeconds(10), 1 << 20),
                "between-chunk");
        assertTrue(upstream.aborted.await(5, TimeUnit.SECONDS), "the upstream saw the abort");
    }

    @Test
    void bytesThatMakeNoEventDoNotHoldOffTheTotalTimeout() throws Exception {
        // A comment byte every 20 ms keeps the socket busy, but no event comes: the total timeout ends it.
        timeoutAfterTheFirstEvent(new UpstreamLimits(SECOND, SECOND, Duration.ofSeconds(5), Duration.ofMillis(400), 1 << 20),
                "total");
    }

    @Test
    void closingTheStreamFromAnotherThreadEndsAReadBlockedOnTheUpstreamAndAbortsIt() throws Exception {
        var limits = new UpstreamLimits(SECOND, SECOND, Duration.ofSeconds(30), Duration.ofSeconds(60), 1 << 20);
        try (var client = new Http1Client(base, SECOND)) {
            var stream = open(client, base.resolve("/stalls"), limits);
            assertEquals(new EngineEvent.Delta("before "), stream.next());
            var failure = new java.util.concurrent.CompletableFuture<Throwable>();
            Thread consumer = Thread.ofVirtual().start(() -> {
                try {
                    stream.next();
                    failure.complete(null);
                } catch (Throwable t) {
                    failure.complete(t);
                }
            });
            Thread.sleep(50); // the consumer is blocked in its read (the upstream sends no event)
            stream.close(); // as a client's disconnect does, from the event loop
            var error = assertInstanceOf(EngineException.class, failure.get(5, TimeUnit.SECONDS),
                    "the blocked read failed long before its 30 s timeout");
            assertEquals(EngineException.Kind.UNAVAILABLE, error.kind());
            consumer.join();
            assertTrue(upstream.aborted.await(5, TimeUnit.SECONDS), "the upstream saw the abort");
        }
    }

    @Test
    void aStreamWhoseBodyEndsWellAfterDoneHandsItsConnectionBackOnceClosed() throws Exception {
        try (var client = new Http1Client(base, SECOND)) {
            for (int i = 0; i < 3; i++) {
                assertEquals("all ", readToFinish(open(client, base.resolve("/late-end"))));
                assertEquals(1, client.idleConnections(), "closing read the body's end and pooled the connection");
            }
        }
        assertEquals(1, upstream.connections.size(), "three streamed answers, one keep-alive connection");
    }
}
