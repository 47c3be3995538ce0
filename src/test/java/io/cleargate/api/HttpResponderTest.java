package io.cleargate.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stream written from a request's virtual thread: each frame, the end and a mid-stream error
 * are handed to the connection's event loop, and the client gets them whole and in order.
 */
class HttpResponderTest {

    private Vertx vertx;
    private HttpServer server;
    /** What the request's "virtual thread" does with its responder; set by each test. */
    private volatile BiConsumer<HttpResponder, HttpServerResponse> writer;
    private final CompletableFuture<List<Boolean>> results = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(request -> {
            Context loop = Vertx.currentContext();
            HttpServerResponse response = request.response();
            Thread.ofVirtual().start(() -> {
                var out = new HttpResponder(watched(response), new ObjectMapper(), loop);
                response.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
                writer.accept(out, response);
            });
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void framesWrittenFromAVirtualThreadReachTheClientWholeAndInOrderBeforeTheEnd() throws Exception {
        int frames = 2_000;
        writer = (out, response) -> {
            var accepted = new ArrayList<Boolean>();
            for (int i = 0; i < frames; i++) {
                accepted.add(out.event(("{\"n\":" + i + "}").getBytes(StandardCharsets.US_ASCII)));
            }
            accepted.add(out.write("data: [DONE]\n\n"));
            out.end();
            accepted.add(out.write("data: after the end\n\n"));
            results.complete(accepted);
        };
        String body = get();
        var expected = new StringBuilder();
        for (int i = 0; i < frames; i++) {
            expected.append("data: {\"n\":").append(i).append("}\n\n");
        }
        expected.append("data: [DONE]\n\n");
        assertEquals(expected.toString(), body);
        List<Boolean> accepted = results.get(10, TimeUnit.SECONDS);
        assertTrue(accepted.subList(0, frames + 1).stream().allMatch(Boolean::booleanValue), "every frame accepted");
        assertFalse(accepted.getLast(), "nothing is written after the end");
        assertEquals(frames + 2, writtenOnLoop.size(), "every frame, [DONE] and the end");
        assertTrue(writtenOnLoop.stream().allMatch(Boolean::booleanValue),
                "the virtual thread handed every write to the event loop instead of writing under the connection's lock");
    }

    @Test
    void anErrorEventAfterFramesFollowsThemAndEndsTheStream() throws Exception {
        writer = (out, response) -> {
            out.event("{\"n\":1}".getBytes(StandardCharsets.US_ASCII));
            out.event("{\"n\":2}".getBytes(StandardCharsets.US_ASCII));
            out.write("data: {\"error\":{\"code\":\"audit_unavailable\"}}\n\n");
            out.end();
            out.end(); // a second end is harmless
            results.complete(List.of(out.closed()));
        };
        assertEquals("data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: {\"error\":{\"code\":\"audit_unavailable\"}}\n\n", get());
        assertTrue(results.get(10, TimeUnit.SECONDS).getFirst(), "the responder counts as closed once its end is handed over");
    }

    /** Whether each write and end reached the response on an event loop thread, in call order. */
    private final List<Boolean> writtenOnLoop = java.util.Collections.synchronizedList(new ArrayList<>());

    /** The response, noting on which kind of thread each write and end reaches it. */
    private HttpServerResponse watched(HttpServerResponse response) {
        return (HttpServerResponse) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServerResponse.class}, (proxy, method, args) -> {
                    if (method.getName().equals("write") || method.getName().equals("end")) {
                        writtenOnLoop.add(Context.isOnEventLoopThread());
                    }
                    try {
                        return method.invoke(response, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A raw HTTP/1.1 GET; returns the de-chunked body. */
    private String get() throws Exception {
        try (var socket = new Socket("127.0.0.1", server.actualPort())) {
            socket.setSoTimeout(10_000);
            OutputStream os = socket.getOutputStream();
            os.write("GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            os.flush();
            byte[] raw = readAll(socket.getInputStream());
            String all = new String(raw, StandardCharsets.UTF_8);
            int head = all.indexOf("\r\n\r\n");
            assertTrue(all.startsWith("HTTP/1.1 200"), all);
            return dechunk(all.substring(head + 4));
        }
    }

    private static byte[] readAll(InputStream in) throws Exception {
        var bytes = new ByteArrayOutputStream();
        in.transferTo(bytes);
        return bytes.toByteArray();
    }

    private static String dechunk(String chunked) {
        var body = new StringBuilder();
        int at = 0;
        while (true) {
            int eol = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, eol).trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, eol + 2, eol + 2 + size);
            at = eol + 2 + size + 2;
        }
    }
}
