package io.cleargate.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection with {@link FlushPerPass} sends what its event loop wrote to it outside that
 * connection's own read when the loop's pass (the task that wrote) ends, not at the write: over
 * real loopback sockets, a request or an answer written at the start of a task that then keeps the
 * loop busy reaches its peer only after the task; it still reaches it whole, also right before a close.
 */
class FlushPerPassTest {

    /** How long a test keeps the event loop busy after its write: far above loopback's delivery time. */
    private static final long BUSY_NANOS = TimeUnit.MILLISECONDS.toNanos(150);

    private Vertx vertx;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void aRequestWrittenOnAClientsConnectionLeavesWhenTheEventLoopsPassEnds() throws Exception {
        long early = requestArrivalBeforeTheTaskEnded(true);
        assertTrue(early <= 0, "the request reached the upstream " + early / 1000 + " µs before the task ended");
    }

    /** The control: without it Vert.x flushes a request at once (else the test above would prove nothing). */
    @Test
    void withoutItARequestLeavesAtOnce() throws Exception {
        long early = requestArrivalBeforeTheTaskEnded(false);
        assertTrue(early > BUSY_NANOS / 2, "the request reached the upstream only " + early / 1000 + " µs before the task ended");
    }

    @Test
    void anAnswerWrittenOutsideItsConnectionsReadLeavesWhenThePassEndsAndWholeBeforeAClose() throws Exception {
        long early = answerArrivalBeforeTheTaskEnded(true);
        assertTrue(early <= 0, "the answer reached the client " + early / 1000 + " µs before the task ended");
    }

    @Test
    void withoutItAnAnswerLeavesAtOnce() throws Exception {
        long early = answerArrivalBeforeTheTaskEnded(false);
        assertTrue(early > BUSY_NANOS / 2, "the answer reached the client only " + early / 1000 + " µs before the task ended");
    }

    /**
     * On one event loop: a call that opens a pooled connection, then a task that sends a second
     * request on it and keeps the loop busy; how long before that task ended the request's first
     * byte reached the upstream (negative: after).
     */
    private long requestArrivalBeforeTheTaskEnded(boolean install) throws Exception {
        try (var upstream = new RecordingUpstream()) {
            var installed = new AtomicBoolean();
            HttpClient client = vertx.httpClientBuilder()
                    .with(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true))
                    .with(new PoolOptions().setHttp1MaxSize(1))
                    .withConnectHandler(connection -> installed.set(install && FlushPerPass.install(connection)))
                    .build();
            Context loop = vertx.getOrCreateContext();
            var call = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
                    .setPort(upstream.port()).setURI("/v1/chat/completions");

            assertEquals("ok", onLoop(loop, done -> client.request(call)
                    .compose(request -> request.send(Buffer.buffer("first")))
                    .compose(response -> response.body())
                    .onComplete(body -> done.complete(body.result().toString()))));
            upstream.arrivals.take();
            assertEquals(install, installed.get());

            var busyUntil = new AtomicLong();
            var onSecond = new AtomicBoolean();
            assertEquals("ok", onLoop(loop, done -> client.request(call).onSuccess(request -> {
                onSecond.set(FlushPerPass.installed(request.connection()));
                request.send(Buffer.buffer("second")).compose(response -> response.body())
                        .onComplete(body -> done.complete(body.result().toString()));
                busyUntil.set(keepBusy());
            })));
            assertEquals(install, onSecond.get()); // the same, pooled connection
            long arrived = upstream.arrivals.take();
            client.close();
            return busyUntil.get() - arrived;
        }
    }

    /**
     * A Vert.x server that answers from a timer (not while the connection is read, where Vert.x
     * defers the flush itself) and then keeps the loop busy; how long before that task ended the
     * answer's first byte reached the client (negative: after). A second request asks to close: its
     * answer must arrive whole before the connection closes.
     */
    private long answerArrivalBeforeTheTaskEnded(boolean install) throws Exception {
        var taskEnds = new LinkedBlockingQueue<Long>();
        var handlers = new AtomicLong(-1);
        HttpServer server = vertx.createHttpServer().requestHandler(request -> {
            if (install) {
                FlushPerPass.install(request.connection());
                FlushPerPass.install(request.connection()); // a second time changes nothing
            }
            handlers.set(((ConnectionBase) request.connection()).channel().pipeline().names().stream()
                    .filter(FlushPerPass.HANDLER::equals).count());
            vertx.setTimer(1, t -> {
                request.response().end("answer");
                taskEnds.add(keepBusy());
            });
        });
        int port = server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
                .actualPort();
        try (var socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(get("keep-alive"));
            int first = in.read();
            long arrived = System.nanoTime();
            assertTrue(first >= 0);
            String answer = readAnswer(in, (char) first);
            assertTrue(answer.startsWith("HTTP/1.1 200") && answer.endsWith("answer"), answer);
            assertEquals(install ? 1 : 0, handlers.get());
            long early = taskEnds.take() - arrived;

            out.write(get("close"));
            String last = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(last.startsWith("HTTP/1.1 200") && last.endsWith("answer"), last);
            return early;
        } finally {
            server.close();
        }
    }

    @Test
    void onlyVertxHttp1ConnectionsAreChanged() {
        assertFalse(FlushPerPass.install(null));
        assertFalse(FlushPerPass.installed(null));
    }

    /** Runs {@code action} on {@code loop} and waits for what it completes. */
    private static <T> T onLoop(Context loop, java.util.function.Consumer<CompletableFuture<T>> action) throws Exception {
        var done = new CompletableFuture<T>();
        loop.runOnContext(v -> action.accept(done));
        return done.get(10, TimeUnit.SECONDS);
    }

    /** Keeps the calling (event loop) thread busy; returns when it stopped. */
    private static long keepBusy() {
        long start = System.nanoTime();
        while (System.nanoTime() - start < BUSY_NANOS) {
            Thread.onSpinWait();
        }
        return System.nanoTime();
    }

    private static byte[] get(String connection) {
        return ("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: " + connection + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The rest of one answer whose first byte was read, up to its content-length. */
    private static String readAnswer(InputStream in, char first) throws IOException {
        var head = new StringBuilder().append(first);
        while (!head.toString().endsWith("\r\n\r\n")) {
            head.append((char) in.read());
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    /** A keep-alive HTTP/1.1 upstream on loopback that notes when each request's first byte arrived. */
    private static final class RecordingUpstream implements AutoCloseable {
        final LinkedBlockingQueue<Long> arrivals = new LinkedBlockingQueue<>();
        private final ServerSocket server;
        private final Thread thread;

        RecordingUpstream() throws IOException {
            server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
            thread = Thread.ofPlatform().daemon().start(this::serve);
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve() {
            try (Socket socket = server.accept()) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                while (true) {
                    int first = in.read();
                    if (first < 0) {
                        return;
                    }
                    arrivals.add(System.nanoTime());
                    var head = new ByteArrayOutputStream();
                    head.write(first);
                    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                        head.write(in.read());
                    }
                    int length = 0;
                    for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
                        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    in.readNBytes(length);
                    out.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            } catch (IOException e) {
                // closed by the test
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            thread.interrupt();
        }
    }
}
