package io.cleargate.testsupport;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private final AtomicInteger modelListings = new AtomicInteger();
    private final AtomicInteger aborted = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.Queue<String> bodies = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicReference<List<ToolCall>> scriptedCalls = new AtomicReference<>();
    private volatile String lastBody;
    /** Streams whose request contains the marker: chunk count and delay (see {@link #slowFor}). */
    private final java.util.Map<String, long[]> paced = new java.util.concurrent.ConcurrentHashMap<>();

    /** A tool call the mock answers with. */
    public record ToolCall(String id, String name, String arguments) {}

    public MockUpstream(String id, int port, int chunks, long chunkDelayMillis) throws IOException {
        this.id = id;
        this.chunks = chunks;
        this.chunkDelayMillis = chunkDelayMillis;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/chat/completions", this::chat);
        server.createContext("/v1/models", this::models);
        server.createContext("/v1/embeddings", this::embeddings);
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

    /**
     * Answer every chat request with these tool calls (null to reset). Without a script the mock
     * still calls a tool on its own when the request offers tools (see {@link #plan}).
     */
    public MockUpstream toolCalls(List<ToolCall> calls) {
        scriptedCalls.set(calls == null ? null : List.copyOf(calls));
        return this;
    }

    /** The body of the last chat or embeddings request, as the upstream received it. */
    public String lastBody() {
        return lastBody;
    }

    /**
     * Streams every request whose body contains {@code marker} in {@code chunkCount} chunks,
     * {@code delayMillis} apart (a long generation), whatever {@link #streaming} says for others.
     */
    public MockUpstream slowFor(String marker, int chunkCount, long delayMillis) {
        paced.put(marker, new long[] {chunkCount, delayMillis});
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

    /** GET /v1/models requests (the gateway's health probes). */
    public int modelListings() {
        return modelListings.get();
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
        modelListings.incrementAndGet();
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
            lastBody = request;
            Map<String, Object> parsed = parseObject(request);
            Plan plan = plan(request, parsed);
            if (Boolean.TRUE.equals(parsed.get("stream"))) {
                long[] pace = paced.entrySet().stream().filter(e -> request.contains(e.getKey()))
                        .map(java.util.Map.Entry::getValue).findFirst().orElse(new long[] {chunks, chunkDelayMillis});
                stream(exchange, plan, f, (int) pace[0], pace[1]);
            } else {
                single(exchange, plan);
            }
        } catch (IOException e) {
            aborted.incrementAndGet();
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** What one chat request is answered with. */
    private record Plan(String text, List<ToolCall> calls, int topLogprobs, boolean logprobs, int choices) {}

    /**
     * Decides the answer from the request itself, so the standalone mock can drive SDK tests:
     * a request offering tools (tool_choice not "none") whose last message is the user's gets a
     * call of the first (or the named) tool, with the user's text as the "query" argument (two
     * calls when the text says "parallel"; "leak-key" adds a cloud key and "leak-pem" a private
     * key block to the arguments, for output moderation tests); a request whose last message is a
     * tool result gets that result echoed; JSON mode gets a JSON object.
     */
    @SuppressWarnings("unchecked")
    private Plan plan(String raw, Map<String, Object> request) {
        boolean logprobs = Boolean.TRUE.equals(request.get("logprobs"));
        int top = request.get("top_logprobs") instanceof Number k ? k.intValue() : 0;
        int n = request.get("n") instanceof Number c ? Math.max(1, c.intValue()) : 1;
        List<ToolCall> script = scriptedCalls.get();
        if (script != null) {
            return new Plan("", script, top, logprobs, n);
        }
        List<Object> messages = request.get("messages") instanceof List<?> l ? (List<Object>) l : List.of();
        Map<String, Object> last = messages.isEmpty() ? Map.of() : (Map<String, Object>) messages.getLast();
        List<Object> tools = request.get("tools") instanceof List<?> t ? (List<Object>) t : List.of();
        Object choice = request.get("tool_choice");
        if (!tools.isEmpty() && !"none".equals(choice) && "user".equals(last.get("role"))) {
            return new Plan("", autoCalls(tools, choice, text(last.get("content")),
                    !Boolean.FALSE.equals(request.get("parallel_tool_calls"))), top, logprobs, n);
        }
        if ("tool".equals(last.get("role"))) {
            return new Plan("Tool result: " + text(last.get("content")), List.of(), top, logprobs, n);
        }
        if (request.get("response_format") instanceof Map<?, ?> format && !"text".equals(format.get("type"))) {
            return new Plan("{\"answer\":\"mock\",\"format\":\"" + format.get("type") + "\"}", List.of(), top, logprobs, n);
        }
        return new Plan(scriptedOrEcho(raw), List.of(), top, logprobs, n);
    }

    @SuppressWarnings("unchecked")
    private static List<ToolCall> autoCalls(List<Object> tools, Object choice, String userText, boolean parallel) {
        String name = String.valueOf(((Map<String, Object>) ((Map<String, Object>) tools.getFirst()).get("function")).get("name"));
        if (choice instanceof Map<?, ?> named && named.get("function") instanceof Map<?, ?> fn) {
            name = String.valueOf(fn.get("name"));
        }
        var args = new LinkedHashMap<String, Object>();
        args.put("query", userText.length() > 200 ? userText.substring(0, 200) : userText);
        if (userText.contains("leak-key")) {
            args.put("token", "AKIAIOSFODNN7EXAMPLE");
        }
        if (userText.contains("leak-pem")) {
            args.put("key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----");
        }
        var calls = new ArrayList<ToolCall>();
        calls.add(new ToolCall("call_mock_0", name, MiniJson.write(args)));
        if (parallel && userText.contains("parallel")) {
            String second = tools.size() > 1
                    ? String.valueOf(((Map<String, Object>) ((Map<String, Object>) tools.get(1)).get("function")).get("name"))
                    : name;
            calls.add(new ToolCall("call_mock_1", second, "{\"query\":\"second\"}"));
        }
        return calls;
    }

    /** A message content as text: a string, or the text parts joined. */
    @SuppressWarnings("unchecked")
    private static String text(Object content) {
        if (content instanceof String s) {
            return s;
        }
        var sb = new StringBuilder();
        if (content instanceof List<?> parts) {
            for (Object part : parts) {
                if (part instanceof Map<?, ?> m && m.get("text") instanceof String t) {
                    sb.append(t);
                }
            }
        }
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parseObject(String body) {
        try {
            return MiniJson.parse(body) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        } catch (RuntimeException e) {
            return Map.of();
        }
    }

    private String scriptedOrEcho(String request) {
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

    private void single(HttpExchange exchange, Plan plan) throws IOException {
        var choices = new ArrayList<Object>();
        for (int c = 0; c < plan.choices(); c++) {
            var message = new LinkedHashMap<String, Object>();
            message.put("role", "assistant");
            message.put("content", plan.calls().isEmpty() ? plan.text() : null);
            if (!plan.calls().isEmpty()) {
                message.put("tool_calls", plan.calls().stream().map(call -> toolCall(call, null, call.arguments())).toList());
            }
            var choice = new LinkedHashMap<String, Object>();
            choice.put("index", c);
            choice.put("message", message);
            choice.put("logprobs", plan.logprobs() ? Map.of("content", logprobs(pieces(plan.text(), Math.max(1, chunks)), plan.topLogprobs())) : null);
            choice.put("finish_reason", plan.calls().isEmpty() ? finishReason : "tool_calls");
            choices.add(choice);
        }
        String body = "{\"id\":\"mock-1\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"mock\",\"choices\":"
                + MiniJson.write(choices) + ","
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + chunks + ",\"total_tokens\":" + (12 + chunks) + "}}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("content-type", "application/json");
        exchange.getResponseHeaders().set("x-mock-backend", id);
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static Map<String, Object> toolCall(ToolCall call, Integer index, String arguments) {
        var fn = new LinkedHashMap<String, Object>();
        if (call != null) {
            fn.put("name", call.name());
        }
        fn.put("arguments", arguments);
        var m = new LinkedHashMap<String, Object>();
        if (index != null) {
            m.put("index", index);
        }
        if (call != null) {
            m.put("id", call.id());
            m.put("type", "function");
        }
        m.put("function", fn);
        return m;
    }

    /** One logprob entry per piece, with {@code top} alternatives (the piece itself first). */
    private static List<Object> logprobs(List<String> pieces, int top) {
        var out = new ArrayList<Object>();
        for (String piece : pieces) {
            var alternatives = new ArrayList<Object>();
            for (int k = 0; k < top; k++) {
                alternatives.add(logprob(k == 0 ? piece : piece + "~" + k, -0.25 * (k + 1), null));
            }
            out.add(logprob(piece, -0.25, alternatives));
        }
        return out;
    }

    private static Map<String, Object> logprob(String token, double value, List<Object> top) {
        var m = new LinkedHashMap<String, Object>();
        m.put("token", token);
        m.put("logprob", value);
        var bytes = new ArrayList<Object>();
        for (byte b : token.getBytes(StandardCharsets.UTF_8)) {
            bytes.add((long) (b & 0xff));
        }
        m.put("bytes", bytes);
        if (top != null) {
            m.put("top_logprobs", top);
        }
        return m;
    }

    private static List<String> pieces(String text, int n) {
        var out = new ArrayList<String>(n);
        for (int i = 0; i < n; i++) {
            out.add(slice(text, i, n));
        }
        return out;
    }

    private void stream(HttpExchange exchange, Plan plan, Fault f, int chunks, long chunkDelayMillis) throws IOException {
        exchange.getResponseHeaders().set("content-type", "text/event-stream");
        exchange.getResponseHeaders().set("x-mock-backend", id);
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        int n = Math.max(1, chunks);
        int pieces = f == Fault.ENDLESS ? Integer.MAX_VALUE : n;
        for (int c = 0; c < plan.choices(); c++) {
            if (!plan.calls().isEmpty()) {
                streamCalls(out, plan.calls(), c);
                continue;
            }
            for (int i = 0; i < pieces; i++) {
                if (f == Fault.DIE_MID_STREAM && i == n / 2) {
                    throw new IOException("mock dropped the connection on purpose");
                }
                String piece = f == Fault.ENDLESS ? "endless " : slice(plan.text(), i, n);
                var delta = new LinkedHashMap<String, Object>();
                delta.put("content", piece);
                write(out, chunk(c, delta, plan.logprobs() ? Map.of("content", logprobs(List.of(piece), plan.topLogprobs())) : null, null));
                if (chunkDelayMillis > 0) {
                    sleep(chunkDelayMillis);
                }
            }
        }
        for (int c = 0; c < plan.choices(); c++) {
            write(out, chunk(c, Map.of(), null, plan.calls().isEmpty() ? finishReason : "tool_calls"));
        }
        write(out, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + n + ",\"total_tokens\":" + (12 + n) + "}}");
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Streams each call as OpenAI does: id and name first, then the arguments in small pieces. */
    private void streamCalls(OutputStream out, List<ToolCall> calls, int choice) throws IOException {
        for (int i = 0; i < calls.size(); i++) {
            ToolCall call = calls.get(i);
            write(out, chunk(choice, Map.of("tool_calls", List.of(toolCall(call, i, ""))), null, null));
            String args = call.arguments();
            for (int from = 0; from < args.length(); from += 7) {
                String piece = args.substring(from, Math.min(args.length(), from + 7));
                write(out, chunk(choice, Map.of("tool_calls", List.of(toolCall(null, i, piece))), null, null));
                if (chunkDelayMillis > 0) {
                    sleep(chunkDelayMillis);
                }
            }
        }
    }

    private static String chunk(int index, Map<String, Object> delta, Object logprobs, String finishReason) {
        var choice = new LinkedHashMap<String, Object>();
        choice.put("index", index);
        choice.put("delta", delta);
        choice.put("logprobs", logprobs);
        choice.put("finish_reason", finishReason);
        return "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\",\"choices\":["
                + MiniJson.write(choice) + "]}";
    }

    /**
     * Embeddings: one deterministic 8-dimensional vector per input (from the text's hash), as
     * floats whatever encoding the caller asked for (Cleargate always asks for floats).
     */
    @SuppressWarnings("unchecked")
    private void embeddings(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        try (exchange) {
            String request = new String(readAll(exchange.getRequestBody()), StandardCharsets.UTF_8);
            lastBody = request;
            if (bodies.size() < 10_000) {
                bodies.add(request);
            }
            Map<String, Object> parsed = parseObject(request);
            Object input = parsed.get("input");
            List<Object> inputs = input instanceof List<?> l ? (List<Object>) l : List.of(String.valueOf(input));
            if (fault.get() == Fault.STATUS_500 || inputs.isEmpty()) {
                byte[] body = "{\"error\":{\"message\":\"mock failure\",\"type\":\"server_error\"}}".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(500, body.length);
                exchange.getResponseBody().write(body);
                return;
            }
            var data = new ArrayList<Object>();
            long tokens = 0;
            for (int i = 0; i < inputs.size(); i++) {
                String text = String.valueOf(inputs.get(i));
                tokens += Math.max(1, text.length() / 4);
                var vector = new ArrayList<Object>();
                int h = text.hashCode();
                for (int d = 0; d < 8; d++) {
                    vector.add(((h >>> (d * 4)) & 0xf) / 16.0 - 0.5);
                }
                data.add(Map.of("object", "embedding", "index", (long) i, "embedding", vector));
            }
            var body = new LinkedHashMap<String, Object>();
            body.put("object", "list");
            body.put("data", data);
            body.put("model", String.valueOf(parsed.get("model")));
            body.put("usage", Map.of("prompt_tokens", tokens, "total_tokens", tokens));
            byte[] bytes = MiniJson.write(body).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.getResponseHeaders().set("x-mock-backend", id);
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
        }
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
