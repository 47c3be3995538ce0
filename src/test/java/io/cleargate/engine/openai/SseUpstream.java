package io.cleargate.engine.openai;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * An OpenAI-compatible upstream that streams, for the stream readers' tests: a real HTTP server on
 * loopback (the JDK's) that counts the connections its answers came on and notes when a client
 * went away mid-answer. It always answers {@code /sse} (three words, a stop, [DONE]) and
 * {@code /endless} (one word every 5 ms until the client aborts); a test adds its own paths with
 * {@link #answer} before {@link #start}.
 */
final class SseUpstream implements AutoCloseable {

    /** A path's answer, written to the chunked body after the 200 head. */
    @FunctionalInterface
    interface Body {
        void write(OutputStream body) throws IOException, InterruptedException;
    }

    static final String STOP = "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}";

    /** The remote addresses the answers were sent to: one per connection used. */
    final Set<Object> connections = ConcurrentHashMap.newKeySet();
    /** Counted down when a client went away while an answer was being written. */
    final CountDownLatch aborted = new CountDownLatch(1);

    private final HttpServer server;

    SseUpstream() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        answer("/sse", body -> {
            for (int i = 0; i < 3; i++) {
                body.write(event(delta("word" + i + " ")));
                body.flush();
            }
            body.write(event(STOP));
            body.write(event("[DONE]"));
            body.flush();
        });
        answer("/endless", body -> {
            for (int i = 0; i < 10_000; i++) {
                body.write(event(delta("x")));
                body.flush();
                Thread.sleep(5);
            }
        });
    }

    /** Answers {@code path} with a chunked 200 whose body {@code answer} writes. */
    void answer(String path, Body answer) {
        server.createContext(path, exchange -> respond(exchange, answer));
    }

    private void respond(HttpExchange exchange, Body answer) throws IOException {
        connections.add(exchange.getRemoteAddress());
        exchange.getRequestBody().readAllBytes();
        exchange.sendResponseHeaders(200, 0); // chunked
        try (OutputStream body = exchange.getResponseBody()) {
            answer.write(body);
        } catch (IOException | InterruptedException e) {
            aborted.countDown(); // the client went away
        }
    }

    SseUpstream start() {
        server.start();
        return this;
    }

    /** http://127.0.0.1:PORT, no path. */
    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** One server-sent event carrying {@code data}. */
    static byte[] event(String data) {
        return ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    /** A chunk's JSON with one text delta. */
    static String delta(String text) {
        return "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"}}]}";
    }
}
