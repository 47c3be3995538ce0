package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The packaged gateway on its default H2 file, SIGKILLed under load: records acknowledged only in
 * the journal (not yet in H2, or in H2 but not forced) are replayed at the next start, so every
 * answered request has its records and the chain verifies. A journal edited while the gateway was
 * down is refused at start, never replayed.
 */
class AuditJournalCrashIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WORKERS = 16;

    @Test
    void everyAnsweredRequestHasItsRecordsAfterSigkillUnderLoadAndAnEditedJournalIsRefused() throws Exception {
        Path root = Scratch.dir("cleargate-journal-crash");
        Path data = root.resolve("data");
        Queue<String> answered = new ConcurrentLinkedQueue<>();
        try (var opa = OpaServer.start(Map.of()); var upstream = new MockUpstream("mock", 0, 2, 0)) {
            var gateway = PackagedGateway.start(PackagedGateway.H2_JAR, data, opa, upstream, Map.of(), Map.of());
            AtomicBoolean loading = new AtomicBoolean(true);
            try (var pool = Executors.newFixedThreadPool(WORKERS)) {
                for (int w = 0; w < WORKERS; w++) {
                    int worker = w;
                    pool.submit(() -> {
                        for (int i = 0; loading.get(); i++) {
                            try {
                                HttpResponse<String> r = gateway.chat("{\"model\":\"mock\",\"max_tokens\":8,\"messages\":"
                                        + "[{\"role\":\"user\",\"content\":\"crash " + worker + "-" + i + "\"}]}");
                                if (r.statusCode() == 200) {
                                    answered.add(r.headers().firstValue("x-request-id").orElseThrow());
                                }
                            } catch (Exception e) {
                                return null; // the gateway was killed under this request
                            }
                        }
                        return null;
                    });
                }
                Thread.sleep(4000);
                ProcessHandle.of(gateway.pid()).orElseThrow().destroyForcibly(); // SIGKILL: no shutdown, no flush
                ProcessHandle.of(gateway.pid()).ifPresent(p -> p.onExit().join());
                loading.set(false);
            }
            gateway.close();
            assertTrue(answered.size() > 100, "too few requests answered before the kill: " + answered.size());

            // A copy of the data directory whose journal is edited: the next start must refuse it.
            Path edited = root.resolve("edited");
            copy(data, edited);
            int changed = editJournal(edited.resolve("db"));
            assertTrue(changed > 0, "the kill left journaled records to edit");
            var refused = assertThrows(AssertionError.class,
                    () -> PackagedGateway.start(PackagedGateway.H2_JAR, edited, opa, upstream, Map.of(), Map.of()).close());
            assertTrue(refused.getMessage().contains("body does not match its hash"), refused.getMessage());

            try (var restarted = PackagedGateway.start(PackagedGateway.H2_JAR, data, opa, upstream, Map.of(), Map.of())) {
                String log = Files.readString(restarted.log());
                assertTrue(log.contains("journaled records the database lacked were checked and inserted"),
                        "the kill left acknowledged records that only the journal held:\n" + restarted.tail());
                for (String id : answered) {
                    JsonNode items = JSON.readTree(restarted.get("/audit/records?request_id=" + id).body()).path("items");
                    assertEquals(1, items.size(), "no record for answered request " + id);
                    assertEquals("final", items.get(0).path("kind").asText());
                    assertEquals("complete", items.get(0).path("state").asText());
                }
                JsonNode verified = JSON.readTree(restarted.get("/audit/verify").body());
                assertTrue(verified.path("ok").asBoolean(), verified.toString());
                HttpResponse<String> after = restarted.chat("{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}");
                assertEquals(200, after.statusCode(), after.body());
                System.out.printf("journal crash test: %d requests answered before SIGKILL, all recorded after restart;"
                        + " %d journaled records edited in a copy and refused%n", answered.size(), changed);
            }
        }
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /**
     * Rewrites every journaled record with one more space after its body (and frames whose
     * checksums fit), as someone with write access to the disk could. Returns how many records.
     */
    private static int editJournal(Path db) throws Exception {
        int rows = 0;
        try (Journal journal = Journal.open(db, "cleargate.journal", 8L << 20)) {
            List<Journal.Frame> frames = journal.read();
            journal.clear();
            for (Journal.Frame frame : frames) {
                List<JournalRows.Row> edited = new ArrayList<>();
                for (JournalRows.Row r : JournalRows.decode(frame.payload())) {
                    String body = StoredBody.decode(r.storedBody()) + " ";
                    edited.add(new JournalRows.Row(r.id(), r.seq(), r.prevHash(), r.entryHash(), r.bodySha256(),
                            StoredBody.encode(body), r.draft()));
                    rows++;
                }
                byte[] payload = JournalRows.encode(edited);
                if (!journal.fits(payload.length)) {
                    journal.rotate();
                }
                journal.append(payload);
            }
        }
        assertFalse(rows == 0 && Files.notExists(db.resolve("cleargate.journal-0.log")), "no journal at all");
        return rows;
    }

    private static void copy(Path from, Path to) throws Exception {
        try (var files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }
}
