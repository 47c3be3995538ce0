import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.BufferedReader;
import java.io.InputStreamReader;
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
 * and for streams time to first token (the first SSE event) and the gaps between events: their
 * p50 and p99 over every gap of every stream, and the worst one. One worst gap of a run is as
 * noisy as the machine; the percentiles show whether a stream is held back as a rule.
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
        var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newVirtualThreadPerTaskExecutor()).connectTimeout(Duration.ofSeconds(5)).build();

        // Warm-up: let the JIT and connection pools settle; not measured.
        runPhase(client, url, body, headers, concurrency, Math.max(50, requests / 5), stream);
        long start = System.nanoTime();
        Result r = runPhase(client, url, body, headers, concurrency, requests, stream);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT,
                "{\"concurrency\":%d,\"requests\":%d,\"errors\":%d,\"seconds\":%.3f,\"rps\":%.1f,"
                        + "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"ttft_p50_ms\":%.3f,\"ttft_p99_ms\":%.3f,\"max_gap_ms\":%.3f,"
                        + "\"gap_p50_ms\":%.3f,\"gap_p99_ms\":%.3f}%n",
                concurrency, requests, r.errors.get(), seconds, requests / seconds,
                pct(r.latency, 50), pct(r.latency, 99), pct(r.ttft, 50), pct(r.ttft, 99), r.maxGapMs(),
                pct(r.allGaps(), 50), pct(r.allGaps(), 99));
    }

    /** @param gaps per request, every gap between two of its events (ms) */
    record Result(double[] latency, double[] ttft, double[][] gaps, AtomicInteger errors) {
        double maxGapMs() {
            return Arrays.stream(allGaps()).max().orElse(0);
        }

        double[] allGaps() {
            return Arrays.stream(gaps).filter(g -> g != null).flatMapToDouble(Arrays::stream).toArray();
        }
    }

    static Result runPhase(HttpClient client, String url, String body, List<String> headers, int concurrency,
            int requests, boolean stream) throws InterruptedException {
        double[] latency = new double[requests];
        double[] ttft = new double[requests];
        double[][] gaps = new double[requests][];
        var next = new AtomicInteger();
        var errors = new AtomicInteger();
        var threads = new ArrayList<Thread>();
        for (int w = 0; w < concurrency; w++) {
            threads.add(Thread.ofVirtual().start(() -> {
                int i;
                while ((i = next.getAndIncrement()) < requests) {
                    var builder = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                            .header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body));
                    for (String h : headers) {
                        int colon = h.indexOf(':');
                        builder.header(h.substring(0, colon), h.substring(colon + 1));
                    }
                    long t0 = System.nanoTime();
                    try {
                        if (stream) {
                            var response = client.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
                            long first = -1, last = t0;
                            var between = new ArrayList<Double>();
                            try (var reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                                String line;
                                while ((line = reader.readLine()) != null) {
                                    if (!line.startsWith("data:")) {
                                        continue;
                                    }
                                    long now = System.nanoTime();
                                    if (first < 0) {
                                        first = now;
                                    } else {
                                        between.add((now - last) / 1e6);
                                    }
                                    last = now;
                                }
                            }
                            if (response.statusCode() != 200) {
                                errors.incrementAndGet();
                            }
                            ttft[i] = first < 0 ? Double.NaN : (first - t0) / 1e6;
                            gaps[i] = between.stream().mapToDouble(Double::doubleValue).toArray();
                        } else {
                            var response = client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
                            if (response.statusCode() != 200) {
                                errors.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                    latency[i] = (System.nanoTime() - t0) / 1e6;
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Result(latency, ttft, gaps, errors);
    }

    static double pct(double[] values, int p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
