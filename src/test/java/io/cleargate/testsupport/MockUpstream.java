package io.cleargate.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A mock OpenAI-compatible upstream, for tests and the benchmark (the only part of the system we
 * mock). Non-streamed requests get one JSON completion; streamed ones get the same text in
 * {@code chunks} pieces, {@code chunkDelayMillis} apart. Faults can be switched on for failure tests.
 *
 * <p>Run standalone: {@code java -cp target/test-classes io.cleargate.testsupport.MockUpstream PORT [chunks] [delayMs]}.
 */
public final class MockUpstream implements AutoCloseable {

    public enum Fault {
        NONE,
        /** Answer 500 at once. */
        STATUS_500,
        /** Accept the connection, never answer. */
        HANG,
        /** Send half the chunks, then drop the connection. */
        DIE_MID_STREAM,
        /** Stream forever (for the response-size cap and client-disconnect tests). */
        ENDLESS
    }

    /** About 1.4 KB of filler text, the completion every benchmark request receives. */
    public static final String COMPLETION = buildCompletion();

    private static final Pattern LAST_USER = Pattern.compile("\"content\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern STREAM = Pattern.compile("\"stream\"\\s*:\\s*true");

    private final HttpServer server;
    private final String id;
    private volatile int chunks;
    private volatile long chunkDelayMillis;
    private final AtomicReference<Fault> fault = new AtomicReference<>(Fault.NONE);
    private final AtomicReference<String> scripted = new AtomicReference<>();
    private volatile boolean echo;
    private final java.util.Map<String, String> censored = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile String finishReason = "stop";
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger aborted = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.Queue<String> bodies = new java.util.concurrent.ConcurrentLinkedQueue<>();

    public MockUpstream(String id, int port, int chunks, long chunkDelayMillis) throws IOException {
        this.id = id;
        this.chunks = chunks;
        this.chunkDelayMillis = chunkDelayMillis;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/chat/completions", this::chat);
        server.createContext("/v1/models", this::models);
        server.start();
    }

    public static MockUpstream start(String id) throws IOException {
        return new MockUpstream(id, 0, 8, 0);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    public String id() {
        return id;
    }

    public MockUpstream fault(Fault f) {
        fault.set(f);
        return this;
    }

    /** Reply with this text instead of the filler (null to reset). */
    public MockUpstream reply(String text) {
        scripted.set(text);
        return this;
    }

    /**
     * Answer every request whose body contains {@code marker} with {@code reply}, the way a
     * censoring model answers its sensitive topics with a canned deflection or a refusal (null
     * reply to forget the marker). Checked before {@link #reply} and {@link #echo}.
     */
    public MockUpstream censor(String marker, String reply) {
        if (reply == null) {
            censored.remove(marker);
        } else {
            censored.put(marker, reply);
        }
        return this;
    }

    /** The finish_reason of every answer ("stop" by default; "content_filter" like a filtering upstream). */
    public MockUpstream finishReason(String reason) {
        finishReason = reason == null ? "stop" : reason;
        return this;
    }

    /** Reply with the last message's content. */
    public MockUpstream echo(boolean on) {
        echo = on;
        return this;
    }

    public MockUpstream streaming(int chunkCount, long delayMillis) {
        this.chunks = chunkCount;
        this.chunkDelayMillis = delayMillis;
        return this;
    }

    public int requests() {
        return requests.get();
    }

    /** Streams that ended because the gateway closed the connection. */
    public int aborted() {
        return aborted.get();
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Requests whose body contained {@code marker} (counted at this backend itself). */
    public long requestsContaining(String marker) {
        return bodies.stream().filter(b -> b.contains(marker)).count();
    }

    public void resetCounts() {
        bodies.clear();
        requests.set(0);
        aborted.set(0);
    }

    private void models(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = "{\"object\":\"list\",\"data\":[{\"id\":\"mock\",\"object\":\"model\",\"owned_by\":\"mock\"}]}"
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(fault.get() == Fault.STATUS_500 ? 500 : 200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private void chat(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        inFlight.incrementAndGet();
        try (exchange) {
            String request = new String(readAll(exchange.getRequestBody()), StandardCharsets.UTF_8);
            if (bodies.size() < 10_000) {
                bodies.add(request);
            }
            Fault f = fault.get();
            switch (f) {
                case STATUS_500 -> {
                    byte[] body = "{\"error\":{\"message\":\"mock failure\",\"type\":\"server_error\"}}".getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(500, body.length);
                    exchange.getResponseBody().write(body);
                    return;
                }
                case HANG -> {
                    sleep(600_000);
                    return;
                }
                default -> { }
            }
            String text = text(request);
            if (STREAM.matcher(request).find()) {
                stream(exchange, text, f);
            } else {
                single(exchange, text);
            }
        } catch (IOException e) {
            aborted.incrementAndGet();
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private String text(String request) {
        for (var e : censored.entrySet()) {
            if (request.contains(e.getKey())) {
                return e.getValue();
            }
        }
        String script = scripted.get();
        if (script != null) {
            return script;
        }
        if (echo) {
            Matcher m = LAST_USER.matcher(request);
            String last = "";
            while (m.find()) {
                last = unescape(m.group(1));
            }
            return last;
        }
        return COMPLETION;
    }

    private void single(HttpExchange exchange, String text) throws IOException {
        String body = "{\"id\":\"mock-1\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"mock\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":" + quote(text) + "},\"finish_reason\":" + quote(finishReason) + "}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + chunks + ",\"total_tokens\":" + (12 + chunks) + "}}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("content-type", "application/json");
        exchange.getResponseHeaders().set("x-mock-backend", id);
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private void stream(HttpExchange exchange, String text, Fault f) throws IOException {
        exchange.getResponseHeaders().set("content-type", "text/event-stream");
        exchange.getResponseHeaders().set("x-mock-backend", id);
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        int n = Math.max(1, chunks);
        int pieces = f == Fault.ENDLESS ? Integer.MAX_VALUE : n;
        for (int i = 0; i < pieces; i++) {
            if (f == Fault.DIE_MID_STREAM && i == n / 2) {
                throw new IOException("mock dropped the connection on purpose");
            }
            String piece = f == Fault.ENDLESS ? "endless " : slice(text, i, n);
            write(out, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\",\"choices\":[{\"index\":0,"
                    + "\"delta\":{\"content\":" + quote(piece) + "},\"finish_reason\":null}]}");
            if (chunkDelayMillis > 0) {
                sleep(chunkDelayMillis);
            }
        }
        write(out, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\",\"choices\":[{\"index\":0,"
                + "\"delta\":{},\"finish_reason\":" + quote(finishReason) + "}]}");
        write(out, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + n + ",\"total_tokens\":" + (12 + n) + "}}");
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String slice(String text, int i, int n) {
        int from = (int) ((long) text.length() * i / n);
        int to = (int) ((long) text.length() * (i + 1) / n);
        return text.substring(from, to);
    }

    private static void write(OutputStream out, String json) throws IOException {
        out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String quote(String s) {
        var sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static String unescape(String s) {
        return s.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private static String buildCompletion() {
        var sb = new StringBuilder();
        String sentence = "Cleargate forwards this completion from a mock upstream so that the benchmark measures the gateway, not a model. ";
        while (sb.length() < 1400) {
            sb.append(sentence);
        }
        return sb.substring(0, 1400);
    }

    @Override
    public void close() {
        server.stop(0);
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int chunks = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        long delay = args.length > 2 ? Long.parseLong(args[2]) : 20;
        var mock = new MockUpstream("bench", port, chunks, delay);
        System.out.println("mock upstream listening on " + mock.baseUrl());
        Thread.currentThread().join();
    }
}
