package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

/**
 * The embedded store at shutdown (issue 14: at most 4 KB per request, space given back). The
 * packaged gateway on its default H2 file serves requests of a 60-character prompt and a 1.4 KB
 * answer and is stopped as a container is (SIGTERM). The file it leaves must hold little besides
 * its data: H2's own close moved chunks for 200 ms only, so a file written by a few thousand
 * requests came out of the shutdown as large as it went in, half of it holes and dead pages.
 * Started again on that file, the gateway must find every record and a chain that verifies.
 */
class ShutdownCompactionIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WORKERS = 8;
    private static final int REQUESTS_EACH = 750;
    private static final String PROMPT = "Summarise the quarterly report for the board in three lines";

    @Test
    void aStoppedGatewayLeavesAFileOfLittleMoreThanItsRecordsAndTheChainStillVerifies() throws Exception {
        Path data = Scratch.dir("cleargate-compact");
        Path file = data.resolve("db/cleargate.mv.db");
        int requests = WORKERS * REQUESTS_EACH;
        try (var opa = OpaServer.start(Map.of());
                var upstream = new MockUpstream("mock", 0, 2, 1).reply(AuditStoreBench.COMPLETION)) {
            long empty;
            long running;
            try (var gateway = PackagedGateway.start(PackagedGateway.H2_JAR, data, opa, upstream, Map.of(), Map.of())) {
                empty = Files.size(file);
                long start = System.nanoTime();
                Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
                try (var pool = Executors.newFixedThreadPool(WORKERS)) {
                    for (int w = 0; w < WORKERS; w++) {
                        pool.submit(() -> {
                            for (int i = 0; i < REQUESTS_EACH; i++) {
                                statuses.merge(gateway.chat("{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":\""
                                        + PROMPT + "\"}]}").statusCode(), 1, Integer::sum);
                            }
                            return null;
                        });
                    }
                }
                assertEquals(Map.of(200, requests), statuses);
                running = Files.size(file);
                System.out.printf("shutdown compaction: %d requests in %d ms%n", requests, (System.nanoTime() - start) / 1_000_000);
            } // SIGTERM, and waits for the process to end
            long stopped = Files.size(file);
            System.out.printf("shutdown compaction: %d requests, %d bytes per request while running, %d after shutdown%n",
                    requests, (running - empty) / requests, (stopped - empty) / requests);

            int chunksFill;
            int fileFill;
            MVStore store = new MVStore.Builder().fileName(file.toString()).readOnly().open();
            try {
                chunksFill = store.getFileStore().getChunksFillRate();
                fileFill = store.getFillRate();
            } finally {
                store.close();
            }
            assertTrue(chunksFill >= 90 && fileFill >= 90, "after shutdown " + chunksFill + "% of the chunks' bytes are live and "
                    + fileFill + "% of the file is in chunks (" + stopped + " bytes; " + running + " while running)");
            assertTrue(stopped < running, stopped + " bytes after shutdown, " + running + " while running");
            assertTrue((stopped - empty) / requests <= 4096, (stopped - empty) / requests + " bytes per request after shutdown");

            try (var again = PackagedGateway.start(PackagedGateway.H2_JAR, data, opa, upstream, Map.of(), Map.of())) {
                JsonNode verified = JSON.readTree(again.get("/audit/verify").body());
                assertTrue(verified.path("ok").asBoolean(), verified.toString());
                long records = 0;
                for (JsonNode chain : verified.path("chains")) {
                    records += chain.path("records").asLong();
                }
                assertTrue(records >= 2L * requests, records + " records for " + requests + " requests: " + verified);
            }
        }
        try (var files = Files.walk(data)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
