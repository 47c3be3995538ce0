package io.cleargate.audit;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Copies every signed checkpoint out of the database: appended (and fsynced) to a file, and
 * optionally POSTed to an HTTP endpoint. Someone who can rewrite the database cannot rewrite
 * these copies, so the signer and the verifiers compare the chain with them. The file is read
 * back at start-up as the last head this replica signed per chain.
 */
final class CheckpointWitness {

    private static final Logger LOG = Logger.getLogger(CheckpointWitness.class);

    private final Path file;
    private final Optional<URI> url;
    private final Duration timeout;
    private final MeterRegistry meters;
    private final HttpClient http;
    /** Highest checkpoint per chain in the file (and written since); guarded by this. */
    private final Map<String, Checkpoint> last = new HashMap<>();

    CheckpointWitness(Path file, Optional<String> url, Duration timeout, MeterRegistry meters) {
        this.file = file;
        this.url = url.filter(u -> !u.isBlank()).map(URI::create);
        this.timeout = timeout;
        this.meters = meters;
        this.http = this.url.isEmpty() ? null : HttpClient.newBuilder().connectTimeout(timeout).build();
        readBack();
    }

    static CheckpointWitness of(AuditConfig config, MeterRegistry meters) {
        return new CheckpointWitness(Path.of(config.witness().file()), config.witness().url(), config.witness().timeout(),
                meters);
    }

    Path file() {
        return file;
    }

    /** The highest checkpoint this witness holds for the chain. */
    synchronized Optional<Checkpoint> last(String chain) {
        return Optional.ofNullable(last.get(chain));
    }

    /** Writes the checkpoint to every witness; failures are counted and logged, never thrown. */
    void record(Checkpoint c) {
        String line = c.line();
        synchronized (this) {
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND)) {
                    ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
                    ch.force(true);
                }
            } catch (IOException | RuntimeException e) {
                failed("file", e);
            }
            Checkpoint known = last.get(c.chainId);
            if (known == null || known.seq <= c.seq) {
                last.put(c.chainId, c);
            }
        }
        url.ifPresent(u -> post(u, line));
    }

    private void post(URI u, String line) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(u).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(line)).build(), HttpResponse.BodyHandlers.discarding());
            if (r.statusCode() / 100 != 2) {
                failed("http", new IOException("HTTP " + r.statusCode()));
            }
        } catch (IOException e) {
            failed("http", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed("http", e);
        }
    }

    private void failed(String witness, Exception e) {
        LOG.errorf("checkpoint witness %s failed: %s", witness, AuditWriter.describe(e));
        if (meters != null) {
            meters.counter("cleargate.audit.witness.failures", "witness", witness).increment();
        }
    }

    private void readBack() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    Checkpoint c = Checkpoint.of(Canonical.parse(line));
                    Checkpoint known = last.get(c.chainId);
                    if (known == null || known.seq <= c.seq) {
                        last.put(c.chainId, c);
                    }
                } catch (RuntimeException malformed) {
                    // A torn last line (crash mid-append) is skipped; the lines before it still count.
                    LOG.warnf("checkpoint witness %s: skipping a malformed line", file);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the checkpoint witness " + file, e);
        }
    }
}
