import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closed-loop load driver for the benchmark: CONCURRENCY workers each send requests back to back
 * until REQUESTS have completed. Prints one JSON line with latency percentiles (ms), throughput,
 * and for streams time to first token (the first SSE event with text in its delta) and the gaps
 * between such events: their p50 and p99 over every gap of every stream, and the worst one. One
 * worst gap of a run is as noisy as the machine; the percentiles show whether a stream is held
 * back as a rule. Events without text (a role alone, the finish, usage, [DONE]) are not tokens.
 *
 * <p>Stream workers start staggered over one stream's length, as independent clients would
 * arrive, rather than all at once (see main).
 *
 * <p>Streams are read by a small HTTP/1.1 client of its own (one keep-alive socket and one
 * platform thread per worker, chunked bodies parsed as they arrive), so that what it times is
 * the server's, not a client library's hand-offs between threads: the JDK's HttpClient added
 * 5-10 ms to the first event at c=16 even against the mock.
 *
 * <p>With {@code LOADDRIVER_TIMELINE=FILE} in the environment, a stream run also writes down when
 * each measured stream was sent and when each of its tokens came, so that slow first tokens and
 * gaps can be laid beside the gateway's flight recording ({@code bin/cleargate bench tail ARM
 * stream}, bench/jfr_stream_tail.py): a line "s SEND_EPOCH_MICROS TTFT_MICROS" per stream, then
 * "g END_EPOCH_MICROS GAP_MICROS" per gap between two of its tokens.
 *
 * usage: java LoadDriver.java URL CONCURRENCY REQUESTS stream|json [header:value ...]
 */
public class LoadDriver {

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int concurrency = Integer.parseInt(args[1]);
        int requests = Integer.parseInt(args[2]);
        boolean stream = args[3].equals("stream");
        List<String> headers = new ArrayList<>(Arrays.asList(args).subList(4, args.length));
        String body = "{\"model\":\"mock\",\"max_tokens\":256,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"Summarise the quarterly report in three sentences.\"}]}";
        Transport transport = stream ? new SocketStreams(URI.create(url), headers, body)
                : new JsonRequests(URI.create(url), headers, body);

        // Streams of equal length started together stay in step for the whole run, so every
        // round would open with a burst of CONCURRENCY requests at once and time the queue behind
        // it: the workers start one stream length / CONCURRENCY apart instead (one stream, timed
        // alone first, gives the length), and being closed loops they stay that far apart.
        long stagger = 0;
        if (stream) {
            long t0 = System.nanoTime();
            transport.send(0, t0);
            stagger = (System.nanoTime() - t0) / concurrency;
        }
        // Warm-up: let the JIT (the driver's and the server's) and the connections settle; not measured.
        runPhase(transport, concurrency, Math.max(50, requests), stagger);
        long start = System.nanoTime();
        Result r = runPhase(transport, concurrency, requests, stagger);
        double seconds = (System.nanoTime() - start) / 1e9;
        String timeline = System.getenv("LOADDRIVER_TIMELINE");
        if (stream && timeline != null && !timeline.isEmpty()) {
            r.writeTimeline(java.nio.file.Path.of(timeline));
        }
        System.out.printf(Locale.ROOT,
                "{\"concurrency\":%d,\"requests\":%d,\"errors\":%d,\"seconds\":%.3f,\"rps\":%.1f,"
                        + "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"ttft_p50_ms\":%.3f,\"ttft_p99_ms\":%.3f,\"max_gap_ms\":%.3f,"
                        + "\"gap_p50_ms\":%.3f,\"gap_p99_ms\":%.3f}%n",
                concurrency, requests, r.errors.get(), seconds, requests / seconds,
                pct(r.latency, 50), pct(r.latency, 99), pct(r.ttft, 50), pct(r.ttft, 99), r.maxGapMs(),
                pct(r.allGaps(), 50), pct(r.allGaps(), 99));
    }

    /**
     * @param gaps per request, every gap between two of its events (ms)
     * @param sends per request, when it was sent ({@link System#nanoTime()})
     * @param tokens per request, when each of its text events came ({@link System#nanoTime()}), or null
     */
    record Result(double[] latency, double[] ttft, double[][] gaps, AtomicInteger errors, long[] sends,
            long[][] tokens) {
        /** The timeline of the class comment, in epoch micros (one reading of the wall clock plus the monotonic clock's progress). */
        void writeTimeline(java.nio.file.Path file) throws IOException {
            java.time.Instant wall = java.time.Clock.systemUTC().instant();
            long nano0 = System.nanoTime();
            long epochMicros0 = wall.getEpochSecond() * 1_000_000 + wall.getNano() / 1000;
            try (var out = new java.io.PrintWriter(java.nio.file.Files.newBufferedWriter(file))) {
                for (int i = 0; i < sends.length; i++) {
                    long[] t = tokens[i];
                    if (t == null || t.length == 0) {
                        continue;
                    }
                    out.printf("s %d %d%n", epochMicros0 + (sends[i] - nano0) / 1000, (t[0] - sends[i]) / 1000);
                    for (int k = 1; k < t.length; k++) {
                        out.printf("g %d %d%n", epochMicros0 + (t[k] - nano0) / 1000, (t[k] - t[k - 1]) / 1000);
                    }
                }
            }
        }

        double maxGapMs() {
            return Arrays.stream(allGaps()).max().orElse(0);
        }

        double[] allGaps() {
            return Arrays.stream(gaps).filter(g -> g != null).flatMapToDouble(Arrays::stream).toArray();
        }
    }

    /** What one request saw: its status, when its first event came and the gaps after it (ns from the send). */
    record Exchange(int status, long firstEvent, double[] gapsMs, long[] tokenNanos) {}

    /** Sends one request for a worker and waits for the whole answer. */
    interface Transport {
        Exchange send(int worker, long t0) throws IOException, InterruptedException;
    }

    static Result runPhase(Transport transport, int concurrency, int requests, long staggerNanos)
            throws InterruptedException {
        double[] latency = new double[requests];
        double[] ttft = new double[requests];
        double[][] gaps = new double[requests][];
        long[] sends = new long[requests];
        long[][] tokens = new long[requests][];
        var next = new AtomicInteger();
        var errors = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int w = 0; w < concurrency; w++) {
            int worker = w;
            threads.add(Thread.ofPlatform().start(() -> {
                java.util.concurrent.locks.LockSupport.parkNanos(worker * staggerNanos);
                int i;
                while ((i = next.getAndIncrement()) < requests) {
                    long t0 = System.nanoTime();
                    sends[i] = t0;
                    try {
                        Exchange e = transport.send(worker, t0);
                        if (e.status() != 200) {
                            errors.incrementAndGet();
                        }
                        ttft[i] = e.firstEvent() < 0 ? Double.NaN : (e.firstEvent() - t0) / 1e6;
                        gaps[i] = e.gapsMs();
                        tokens[i] = e.tokenNanos();
                    } catch (Exception ex) {
                        errors.incrementAndGet();
                        ttft[i] = Double.NaN;
                    }
                    latency[i] = (System.nanoTime() - t0) / 1e6;
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Result(latency, ttft, gaps, errors, sends, tokens);
    }

    /** JSON requests through the JDK's client (the bench measures those with wrk; kept for ad-hoc use). */
    static final class JsonRequests implements Transport {
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newVirtualThreadPerTaskExecutor()).connectTimeout(Duration.ofSeconds(5)).build();
        private final URI uri;
        private final List<String> headers;
        private final String body;

        JsonRequests(URI uri, List<String> headers, String body) {
            this.uri = uri;
            this.headers = headers;
            this.body = body;
        }

        @Override
        public Exchange send(int worker, long t0) throws IOException, InterruptedException {
            var builder = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
            for (String h : headers) {
                int colon = h.indexOf(':');
                builder.header(h.substring(0, colon), h.substring(colon + 1));
            }
            var response = client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Exchange(response.statusCode(), -1, new double[0], null);
        }
    }

    /**
     * Streamed requests over one keep-alive socket per worker. Each SSE event is timed when the
     * bytes that complete its "data:" line are read; a chunked body ends with its zero-length
     * chunk, a body with a Content-Length (an error) after that many bytes.
     */
    static final class SocketStreams implements Transport {
        private final URI uri;
        private final byte[] request;
        private final Socket[] sockets = new Socket[1024];
        private final Reader[] readers = new Reader[1024];

        SocketStreams(URI uri, List<String> headers, String body) {
            this.uri = uri;
            byte[] payload = body.getBytes(StandardCharsets.UTF_8);
            var head = new StringBuilder()
                    .append("POST ").append(uri.getRawPath()).append(" HTTP/1.1\r\n")
                    .append("host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n")
                    .append("content-type: application/json\r\naccept: text/event-stream\r\n")
                    .append("content-length: ").append(payload.length).append("\r\n");
            for (String h : headers) {
                int colon = h.indexOf(':');
                head.append(h, 0, colon).append(": ").append(h.substring(colon + 1).strip()).append("\r\n");
            }
            head.append("\r\n");
            byte[] start = head.toString().getBytes(StandardCharsets.UTF_8);
            request = Arrays.copyOf(start, start.length + payload.length);
            System.arraycopy(payload, 0, request, start.length, payload.length);
        }

        @Override
        public Exchange send(int worker, long t0) throws IOException {
            Socket socket = sockets[worker];
            if (socket == null || socket.isClosed()) {
                socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
                socket.setSoTimeout(60_000);
                sockets[worker] = socket;
                readers[worker] = new Reader(socket.getInputStream());
            }
            try {
                OutputStream out = socket.getOutputStream();
                out.write(request);
                out.flush();
                return read(readers[worker], t0);
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        }

        private Exchange read(Reader in, long t0) throws IOException {
            String status = in.line();
            int code = Integer.parseInt(status.split(" ")[1]);
            boolean chunked = false;
            long length = -1;
            for (String h; !(h = in.line()).isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(lower.substring(15).strip());
                }
            }
            var events = new Events(t0);
            if (!chunked) {
                events.feed(in.bytes(Math.max(0, length)));
                return events.done(code);
            }
            while (true) {
                String size = in.line();
                int semicolon = size.indexOf(';');
                int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).strip(), 16);
                if (n == 0) {
                    while (!in.line().isEmpty()) {
                        // trailers
                    }
                    return events.done(code);
                }
                events.feed(in.bytes(n));
                in.line(); // the CRLF after the chunk
            }
        }
    }

    /** Splits a body into lines as its bytes arrive and times each "data:" line that carries text. */
    static final class Events {
        private final long t0;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final List<Double> gaps = new ArrayList<>();
        private final List<Long> times = new ArrayList<>();
        private long first = -1;
        private long last;

        Events(long t0) {
            this.t0 = t0;
            this.last = t0;
        }

        void feed(byte[] bytes) {
            long now = System.nanoTime();
            for (byte b : bytes) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                byte[] l = line.toByteArray();
                line.reset();
                if (l.length >= 5 && l[0] == 'd' && l[1] == 'a' && l[2] == 't' && l[3] == 'a' && l[4] == ':'
                        && hasText(l)) {
                    if (first < 0) {
                        first = now;
                    } else {
                        gaps.add((now - last) / 1e6);
                    }
                    last = now;
                    times.add(now);
                }
            }
        }

        /** Whether the event's delta has non-empty content ("content":" followed by more than its closing quote). */
        private static boolean hasText(byte[] event) {
            byte[] key = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
            outer:
            for (int i = 0; i + key.length < event.length; i++) {
                for (int k = 0; k < key.length; k++) {
                    if (event[i + k] != key[k]) {
                        continue outer;
                    }
                }
                return event[i + key.length] != '"';
            }
            return false;
        }

        Exchange done(int status) {
            return new Exchange(status, first, gaps.stream().mapToDouble(Double::doubleValue).toArray(),
                    times.stream().mapToLong(Long::longValue).toArray());
        }
    }

    /** Reads CRLF lines and counted bytes from a socket, blocking only when its buffer is empty. */
    static final class Reader {
        private final InputStream in;

        Reader(InputStream in) {
            this.in = new BufferedInputStream(in, 16_384);
        }

        String line() throws IOException {
            var b = new ByteArrayOutputStream();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    b.write(c);
                }
            }
            return b.toString(StandardCharsets.ISO_8859_1);
        }

        byte[] bytes(long n) throws IOException {
            byte[] out = in.readNBytes((int) n);
            if (out.length < n) {
                throw new IOException("connection closed");
            }
            return out;
        }
    }

    static double pct(double[] values, int p) {
        double[] sorted = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
