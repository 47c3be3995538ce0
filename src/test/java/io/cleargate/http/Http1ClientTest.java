package io.cleargate.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The upstream client against real HTTP servers on loopback: the JDK's server, and raw sockets for misbehaviour. */
class Http1ClientTest {

    private static final Duration SECOND = Duration.ofSeconds(1);

    private HttpServer server;
    private URI base;
    private final Set<Object> connections = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/fixed", exchange -> {
            connections.add(exchange.getRemoteAddress());
            byte[] in = exchange.getRequestBody().readAllBytes();
            byte[] out = ("echo:" + new String(in, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.createContext("/chunked", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, 0); // 0: chunked
            try (OutputStream body = exchange.getResponseBody()) {
                for (int i = 0; i < 50; i++) {
                    body.write(("data: " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                    body.flush();
                }
            }
        });
        server.createContext("/slow", exchange -> {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static Http1Client.Response post(Http1Client client, URI uri, String body) throws IOException {
        return client.send("POST", uri, Map.of("content-type", "text/plain"), body.getBytes(StandardCharsets.UTF_8),
                SECOND);
    }

    @Test
    void aBodyReadToItsEndLeavesItsConnectionForTheNextRequest() throws IOException {
        try (var client = new Http1Client(base, SECOND)) {
            for (int i = 0; i < 5; i++) {
                var response = post(client, base.resolve("/fixed"), "n" + i);
                assertEquals(200, response.status());
                byte[] body = Http1Client.readAll(response.body(), 1024, System.nanoTime() + SECOND.toNanos());
                assertEquals("echo:n" + i, new String(body, StandardCharsets.UTF_8));
            }
        }
        assertEquals(1, connections.size(), "five requests, one keep-alive connection");
    }

    @Test
    void aBodyClosedBeforeItsEndClosesItsConnection() throws IOException {
        try (var client = new Http1Client(base, SECOND)) {
            var first = post(client, base.resolve("/chunked"), "");
            first.body().read(new byte[4]);
            first.body().close();
            var second = post(client, base.resolve("/fixed"), "x");
            Http1Client.readAll(second.body(), 1024, System.nanoTime() + SECOND.toNanos());
            var third = post(client, base.resolve("/fixed"), "y");
            assertEquals("echo:y", new String(Http1Client.readAll(third.body(), 1024,
                    System.nanoTime() + SECOND.toNanos()), StandardCharsets.UTF_8));
        }
        assertEquals(1, connections.size(), "the aborted stream's connection was not reused; the next one was");
    }

    @Test
    void aChunkedBodyIsDecoded() throws IOException {
        try (var client = new Http1Client(base, SECOND)) {
            var response = post(client, base.resolve("/chunked"), "");
            byte[] body = Http1Client.readAll(response.body(), 1 << 20, System.nanoTime() + SECOND.toNanos());
            var expected = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                expected.append("data: ").append(i).append("\n\n");
            }
            assertEquals(expected.toString(), new String(body, StandardCharsets.UTF_8));
        }
    }

    @Test
    void aBodyOverTheCapIsCutAtOneByteMore() throws IOException {
        try (var client = new Http1Client(base, SECOND)) {
            var response = post(client, base.resolve("/fixed"), "0123456789");
            byte[] body = Http1Client.readAll(response.body(), 4, System.nanoTime() + SECOND.toNanos());
            assertEquals(5, body.length);
        }
    }

    @Test
    void headersLateBeyondTheFirstByteTimeoutAreATimeout() throws IOException {
        try (var client = new Http1Client(base, SECOND)) {
            assertThrows(SocketTimeoutException.class, () -> client.send("POST", base.resolve("/slow"), Map.of(),
                    new byte[0], Duration.ofMillis(200)));
        }
    }

    @Test
    void aConnectionTheServerClosedWhileIdleIsReplacedWithoutLosingTheRequest() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger answered = new AtomicInteger();
        try (var raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // Answers one request per connection (keep-alive advertised), then closes it: a server whose idle timeout hit.
            Thread.ofVirtual().start(() -> {
                while (!raw.isClosed()) {
                    try (Socket s = raw.accept()) {
                        accepted.incrementAndGet();
                        var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                        int length = 0;
                        String line;
                        while ((line = in.readLine()) != null && !line.isEmpty()) {
                            if (line.toLowerCase().startsWith("content-length:")) {
                                length = Integer.parseInt(line.substring(15).trim());
                            }
                        }
                        in.skip(length);
                        s.getOutputStream().write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
                        s.getOutputStream().flush();
                        answered.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            URI uri = URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/v1/chat/completions");
            try (var client = new Http1Client(uri, SECOND)) {
                for (int i = 0; i < 3; i++) {
                    var response = post(client, uri, "{}");
                    assertArrayEquals("ok".getBytes(StandardCharsets.ISO_8859_1),
                            Http1Client.readAll(response.body(), 16, System.nanoTime() + SECOND.toNanos()));
                    Thread.sleep(20); // the server closes the connection meanwhile
                }
            }
            assertEquals(3, answered.get(), "each request reached the server exactly once");
            assertEquals(3, accepted.get());
        }
    }

    @Test
    void aServerThatNeverAnswersAFreshConnectionIsAnError() throws Exception {
        try (var raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!raw.isClosed()) {
                    try (Socket s = raw.accept()) {
                        s.getInputStream().read(new byte[1024]);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            URI uri = URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/");
            try (var client = new Http1Client(uri, SECOND)) {
                assertThrows(IOException.class, () -> post(client, uri, "{}"));
            }
        }
    }

    @Test
    void aBodyWithoutLengthEndsWhenTheServerClosesAndItsConnectionIsNotReused() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (var raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!raw.isClosed()) {
                    try (Socket s = raw.accept()) {
                        accepted.incrementAndGet();
                        s.getInputStream().read(new byte[4096]);
                        s.getOutputStream().write("HTTP/1.0 200 OK\r\n\r\nuntil close".getBytes(StandardCharsets.ISO_8859_1));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            URI uri = URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/");
            try (var client = new Http1Client(uri, SECOND)) {
                for (int i = 0; i < 2; i++) {
                    var response = client.send("GET", uri, Map.of(), null, SECOND);
                    assertEquals("until close", new String(Http1Client.readAll(response.body(), 1024,
                            System.nanoTime() + SECOND.toNanos()), StandardCharsets.ISO_8859_1));
                }
            }
            assertEquals(2, accepted.get());
        }
    }

    @Test
    void aBodyThatStallsPastTheDeadlineIsATimeoutAndItsConnectionIsDropped() throws Exception {
        try (var raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = raw.accept()) {
                    s.getInputStream().read(new byte[4096]);
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part".getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    Thread.sleep(3000);
                } catch (IOException | InterruptedException e) {
                    // the client gave up
                }
            });
            URI uri = URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/");
            try (var client = new Http1Client(uri, SECOND)) {
                var response = client.send("POST", uri, Map.of(), new byte[0], SECOND);
                long start = System.nanoTime();
                assertThrows(SocketTimeoutException.class,
                        () -> Http1Client.readAll(response.body(), 1024, System.nanoTime() + Duration.ofMillis(300).toNanos()));
                long tookMillis = (System.nanoTime() - start) / 1_000_000;
                org.junit.jupiter.api.Assertions.assertTrue(tookMillis < 2000, "gave up at the deadline, not later: " + tookMillis);
            }
        }
    }
}
