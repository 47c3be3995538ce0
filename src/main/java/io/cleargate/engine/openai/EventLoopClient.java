package io.cleargate.engine.openai;

import io.cleargate.concurrent.FlushPerPass;
import io.cleargate.domain.EngineException.Kind;
import io.cleargate.domain.EngineException;
import io.cleargate.http.Http1Client;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

/**
 * The upstream call without a thread of its own: one POST on a keep-alive connection of Vert.x's
 * client, made from the event loop that read the gateway's request, whose answer arrives on that
 * same event loop. With every stage of the pipeline non-blocking, a request then costs two
 * wake-ups of one thread (its bytes in, the upstream's answer in) instead of handing it to a
 * virtual thread, its carrier and the JDK's socket poller and back.
 *
 * <p>A streamed answer ({@link #stream}) is parsed on that loop as its bytes arrive and read there
 * by polling ({@link LoopSseStream}): each chunk wakes the loop once, where the blocking client
 * woke the JDK's socket poller, a reader thread and the request's thread before its bytes reached
 * the loop that writes them to the client.
 *
 * <p>Only for plain-http origins given by an IP address: the egress check before each call then
 * needs no DNS lookup, which could block the event loop. Other origins go through
 * {@link Http1Client} on a virtual thread.
 */
final class EventLoopClient implements AutoCloseable {

    private static final int ERROR_BODY_PEEK = 2048;
    static final long TICK_MILLIS = 10;

    private final Vertx vertx;
    /**
     * One Vert.x client per event loop, so that a call rides a connection of the loop it is made on.
     * Vert.x's pool hands out its most recently used connection whatever loop owns it, and a
     * connection owned by another loop moves each call there and its answer back: two more
     * wake-ups per request (measured: 10.6 instead of about 2 at c=1 with two loops).
     */
    private final Map<Thread, Loop> loops = new ConcurrentHashMap<>();
    private final HttpClientOptions options;
    private final String host;
    private final int port;
    private final String backendId;
    private final UpstreamLimits limits;

    private EventLoopClient(Vertx vertx, URI origin, String backendId, UpstreamLimits limits) {
        this.vertx = vertx;
        this.host = origin.getHost();
        this.port = origin.getPort() > 0 ? origin.getPort() : 80;
        this.backendId = backendId;
        this.limits = limits;
        this.options = new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(30) // as Http1Client: a connection idle longer is not reused
                .setPipelining(false)
                .setTcpNoDelay(true)
                .setMaxHeaderSize(64 * 1024)
                .setConnectTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, limits.connect().toMillis())))
                .setDefaultHost(host)
                .setDefaultPort(port);
    }

    /** This event loop's client and watch; the client's connections are made from, and so owned by, this loop. */
    private Loop loop() {
        // The backend's slots (BackendHealth) bound what is in flight; the pool must not queue below them.
        // Each connection sends what a pass of its loop wrote to it when the pass ends (FlushPerPass):
        // under load the upstream then gets the pass's requests together, one wake-up for many.
        return loops.computeIfAbsent(Thread.currentThread(), t -> new Loop(vertx.httpClientBuilder()
                .with(options)
                .with(new PoolOptions().setHttp1MaxSize(1024))
                .withConnectHandler(FlushPerPass::install)
                .build()));
    }

    /**
     * One event loop's client and the calls in flight on it. The calls' deadlines are checked every
     * {@link #TICK_MILLIS} by one periodic timer that runs only while a call is in flight, instead of
     * a timer set and cancelled per call (and again when its head arrives); a timeout may fire up to
     * a tick late, as the blocking client's ({@code io.cleargate.http.ReadDeadlines}).
     */
    private final class Loop {
        private final HttpClient client;
        private final ArrayList<Watched> inFlight = new ArrayList<>();
        private long timer = -1;

        Loop(HttpClient client) {
            this.client = client;
        }

        void watch(Watched call) {
            inFlight.add(call);
            if (timer < 0) {
                timer = vertx.setPeriodic(TICK_MILLIS, id -> sweep());
            }
        }

        private void sweep() {
            long now = System.nanoTime();
            int kept = 0;
            for (int i = 0; i < inFlight.size(); i++) {
                Watched call = inFlight.get(i);
                if (!call.expireIfLate(now)) {
                    inFlight.set(kept++, call);
                }
            }
            inFlight.subList(kept, inFlight.size()).clear();
            if (inFlight.isEmpty()) { // idle: no timer runs until the next call
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }
    }

    /** A call in flight whose deadlines the loop's sweep checks. */
    interface Watched {
        /** Fails the call if it is past a deadline; true when it is over (failed now or done before). */
        boolean expireIfLate(long now);
    }

    /** A client for {@code origin}, or null when it is not a plain-http origin given by an IP address. */
    static EventLoopClient forOrigin(Vertx vertx, URI origin, String backendId, UpstreamLimits limits) {
        if (vertx == null || !"http".equalsIgnoreCase(origin.getScheme()) || !isAddressLiteral(origin.getHost())) {
            return null;
        }
        return new EventLoopClient(vertx, origin, backendId, limits);
    }

    private static boolean isAddressLiteral(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        try {
            InetAddress.ofLiteral(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * POSTs {@code body} to {@code path} and completes, on the calling event loop, with the whole
     * 2xx body (within the size cap, the first-byte and total timeouts), or with the
     * {@link EngineException} the blocking client's caller would have thrown.
     */
    CompletionStage<byte[]> post(String path, Map<String, String> headers, byte[] body) {
        var result = new CompletableFuture<byte[]>();
        long now = System.nanoTime();
        var call = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port).setURI(path);
        headers.forEach(call::putHeader);
        var exchange = new Exchange(result, now + Math.min(limits.firstByte().toNanos(), limits.total().toNanos()),
                now + limits.total().toNanos());
        Loop loop = loop();
        loop.watch(exchange);
        loop.client.request(call).onComplete(opened -> {
            if (opened.failed()) {
                exchange.fail(unreachable(opened.cause()));
                return;
            }
            HttpClientRequest request = opened.result();
            exchange.request = request;
            if (result.isDone()) { // timed out while connecting
                request.reset();
                return;
            }
            request.send(Buffer.buffer(body)).onComplete(answered -> {
                if (answered.failed()) {
                    exchange.fail(unreachable(answered.cause()));
                } else {
                    exchange.read(answered.result());
                }
            });
        });
        return result;
    }

    /**
     * POSTs {@code body} to {@code path} asking for server-sent events, and completes, on the calling
     * event loop, with the stream once a 2xx head has arrived within the connect and first-byte
     * timeouts, or with the {@link EngineException} the blocking client's caller would have thrown.
     * The stream's events arrive on this loop; the between-chunk and total timeouts, the size cap
     * and the SSE parsing are the blocking stream's ({@link SseEngineStream}).
     */
    CompletionStage<io.cleargate.domain.EngineStream> stream(String path, Map<String, String> headers, byte[] body,
            com.fasterxml.jackson.databind.ObjectMapper json, int choices) {
        var result = new CompletableFuture<io.cleargate.domain.EngineStream>();
        var call = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port).setURI(path);
        headers.forEach(call::putHeader);
        var stream = new LoopSseStream(result, json, limits, backendId, choices, vertx.getOrCreateContext());
        Loop loop = loop();
        loop.watch(stream);
        loop.client.request(call).onComplete(opened -> {
            if (opened.failed()) {
                stream.fail(unreachable(opened.cause()));
                return;
            }
            HttpClientRequest request = opened.result();
            if (!stream.sending(request)) { // timed out while connecting
                request.reset();
                return;
            }
            request.send(Buffer.buffer(body)).onComplete(answered -> {
                if (answered.failed()) {
                    stream.fail(unreachable(answered.cause()));
                } else {
                    stream.head(answered.result());
                }
            });
        });
        return result;
    }

    EngineException unreachable(Throwable cause) {
        if (cause instanceof ConnectTimeoutException || cause instanceof TimeoutException) {
            return new EngineException(Kind.TIMEOUT, "no response from backend " + backendId + " within the first-byte timeout");
        }
        return new EngineException(Kind.UNAVAILABLE, "cannot reach backend " + backendId);
    }

    /** One call's state on its event loop: its deadlines, and the body read so far. */
    private final class Exchange implements Watched {
        private final CompletableFuture<byte[]> result;
        private final long firstByteDeadline;
        private final long deadline;
        private HttpClientRequest request;
        private boolean headArrived;
        private Buffer received;

        Exchange(CompletableFuture<byte[]> result, long firstByteDeadline, long deadline) {
            this.result = result;
            this.firstByteDeadline = firstByteDeadline;
            this.deadline = deadline;
        }

        @Override
        public boolean expireIfLate(long now) {
            if (result.isDone()) {
                return true;
            }
            String late = !headArrived && now - firstByteDeadline > 0
                    ? "no response from backend " + backendId + " within the first-byte timeout"
                    : now - deadline > 0 ? "backend " + backendId + " exceeded the total timeout" : null;
            if (late == null) {
                return false;
            }
            if (fail(new EngineException(Kind.TIMEOUT, late)) && request != null) {
                request.reset(); // closes the connection: a late answer must not reach the next call on it
            }
            return true;
        }

        boolean fail(EngineException e) {
            received = null;
            return result.completeExceptionally(e);
        }

        void read(HttpClientResponse response) {
            if (result.isDone()) {
                return;
            }
            int status = response.statusCode();
            if (status / 100 != 2) {
                // Read a little (never shown) so a short error body leaves its connection reusable.
                int[] seen = {0};
                response.handler(piece -> {
                    seen[0] += piece.length();
                    if (seen[0] > ERROR_BODY_PEEK) {
                        response.request().reset();
                    }
                });
                response.exceptionHandler(ignored -> { });
                Kind kind = status == 429 || status >= 500 ? Kind.UNAVAILABLE : Kind.BAD_RESPONSE;
                fail(new EngineException(kind, "backend " + backendId + " answered HTTP " + status));
                return;
            }
            long max = limits.maxResponseBytes();
            String length = response.getHeader("content-length");
            if (length != null && parseLength(length) > max) {
                tooLarge(response);
                return;
            }
            headArrived = true;
            received = Buffer.buffer(length == null ? 4096 : (int) Math.min(max, parseLength(length)));
            response.handler(piece -> {
                if (result.isDone() || received == null) {
                    return;
                }
                if (received.length() + piece.length() > max) {
                    tooLarge(response);
                    return;
                }
                received.appendBuffer(piece);
            });
            response.exceptionHandler(e -> fail(new EngineException(Kind.UNAVAILABLE,
                    "backend " + backendId + " connection failed")));
            response.endHandler(v -> {
                if (received != null) {
                    byte[] bytes = received.getBytes();
                    received = null;
                    result.complete(bytes);
                }
            });
        }

        private void tooLarge(HttpClientResponse response) {
            response.exceptionHandler(ignored -> { }); // the reset below is ours
            fail(new EngineException(Kind.TOO_LARGE,
                    "backend " + backendId + " response exceeded " + limits.maxResponseBytes() + " bytes"));
            response.request().reset();
        }
    }

    private static long parseLength(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public void close() {
        loops.values().forEach(loop -> loop.client.close());
        loops.clear();
    }
}
