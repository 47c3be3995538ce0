package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.cleargate.testsupport.Scratch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The witness outside the database: an fsynced file and a real HTTP endpoint. */
class CheckpointWitnessTest {

    static Checkpoint checkpoint(String chain, long seq) {
        byte[] seed = new byte[32];
        seed[0] = 1;
        SigningKeys keys = new SigningKeys(seed, List.of());
        Checkpoint c = new Checkpoint();
        c.chainId = chain;
        c.seq = seq;
        c.headHash = Canonical.sha256("head " + seq);
        c.signedAt = "2026-01-01T00:00:00Z";
        c.keyId = keys.currentId();
        c.signature = keys.sign(CheckpointSigner.message(chain, seq, c.headHash, c.signedAt));
        return c;
    }

    @Test
    void everyCheckpointIsAppendedToTheFileAndPostedToTheHttpWitness() throws Exception {
        List<String> posted = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/witness", exchange -> {
            posted.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            Path file = Scratch.dir("witness").resolve("sub/witness.jsonl");
            var meters = new SimpleMeterRegistry();
            var witness = new CheckpointWitness(file, Optional.of("http://127.0.0.1:" + server.getAddress().getPort() + "/witness"),
                    Duration.ofSeconds(2), meters);
            witness.record(checkpoint("acme", 4));
            witness.record(checkpoint("acme", 9));
            List<String> lines = Files.readAllLines(file);
            assertEquals(2, lines.size());
            assertEquals(lines, posted);
            assertEquals(9, Canonical.parse(lines.get(1)).get("seq"));
            assertEquals(0.0, meters.counter("cleargate.audit.witness.failures", "witness", "http").count());
            // A restarted gateway reads its last signed head back from the file.
            assertEquals(9, new CheckpointWitness(file, Optional.empty(), Duration.ofSeconds(1), null).last("acme").orElseThrow().seq);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anUnreachableHttpWitnessIsCountedAndTheFileStillReceivesTheCheckpoint() throws Exception {
        Path file = Scratch.file("witness", ".jsonl");
        var meters = new SimpleMeterRegistry();
        HttpServer closed = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        int port = closed.getAddress().getPort();
        closed.stop(0);
        var witness = new CheckpointWitness(file, Optional.of("http://127.0.0.1:" + port + "/"), Duration.ofMillis(500), meters);
        witness.record(checkpoint("acme", 1));
        assertEquals(1.0, meters.counter("cleargate.audit.witness.failures", "witness", "http").count());
        assertTrue(Files.readString(file).contains("\"seq\":1,"));
    }
}
