package io.cleargate.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * llama.cpp's own {@code llama-server}, an OpenAI-compatible server nobody here wrote, on a loopback
 * port. The binary and the GGUF model come from {@code bin/cleargate interop} (bin/lib/llama.sh
 * builds llama.cpp from the llama-cpp-python sdist and converts the bundled model) through the
 * system properties {@code interop.llama-server} and {@code interop.gguf}.
 */
public final class LlamaServer implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;

    private LlamaServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** The file a system property names; the interop command sets them, so a missing one is an error. */
    public static Path required(String property) {
        String value = System.getProperty(property);
        if (value == null || !Files.isRegularFile(Path.of(value))) {
            throw new AssertionError("system property " + property + " must name a file (run bin/cleargate interop): "
                    + value);
        }
        return Path.of(value);
    }

    /** Starts llama-server serving {@code gguf} under {@code alias}, with {@code extra} arguments; waits for /health. */
    public static LlamaServer start(Path binary, Path gguf, String alias, List<String> extra, Path logDir)
            throws IOException, InterruptedException {
        int port = OpaServer.freePort();
        List<String> command = new ArrayList<>(List.of(binary.toString(), "-m", gguf.toString(), "--host", "127.0.0.1",
                "--port", Integer.toString(port), "-a", alias, "-t", "1", "-c", "4096", "-np", "2", "--no-webui"));
        command.addAll(extra);
        Path log = logDir.resolve("llama-server-" + port + ".log");
        var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().clear();
        Process p = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        var server = new LlamaServer(p, port, log);
        server.awaitHealthy();
        return server;
    }

    private void awaitHealthy() throws InterruptedException {
        var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new AssertionError("llama-server exited with " + process.exitValue() + "; log " + log);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("llama-server did not become healthy in 60 s; log " + log);
    }

    /**
     * The id of the one token llama-server's tokenizer makes of {@code text} (special tokens parsed),
     * as a client finds the ids it puts in {@code logit_bias}.
     */
    public int tokenId(String text) throws IOException, InterruptedException {
        var http = HttpClient.newHttpClient();
        String body = "{\"content\":" + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(text)
                + ",\"parse_special\":true}";
        var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/tokenize"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        var tokens = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("tokens");
        if (r.statusCode() != 200 || tokens.size() != 1) {
            throw new AssertionError("'" + text + "' is not one token for llama-server: " + r.body());
        }
        return tokens.get(0).asInt();
    }

    /** The OpenAI base URL, as a backend's base-url. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port + "/v1";
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
