package io.cleargate.audit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.Roles;
import io.cleargate.testsupport.TestCredentials;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The audit trail on an embedded H2 file, where records are durable once journaled and reach H2
 * a moment later: whoever reads the trail still sees every record whose request was answered.
 */
@QuarkusTest
@TestProfile(AuditJournalTest.H2File.class)
class AuditJournalTest {

    static final Path DIR = Path.of("target/audit-journal-test").toAbsolutePath();

    public static class H2File implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                if (Files.exists(DIR)) {
                    try (var files = Files.walk(DIR)) {
                        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("quarkus.datasource.jdbc.url",
                    "jdbc:h2:file:" + DIR + "/cleargate;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0");
        }
    }

    @Inject javax.sql.DataSource dataSource;
    @Inject AuditStage audit;
    @Inject AuditWriter writer;
    @Inject CheckpointSigner signer;
    @Inject Recorder recorder;

    static String tenant() {
        return "j" + UUID.randomUUID().toString().substring(0, 8);
    }

    static String auditor() {
        return TestCredentials.bearer(Roles.AUDITOR, "ops", "audrey");
    }

    static JsonPath records(String query) {
        return given().header("Authorization", auditor()).get("/audit/records?" + query).then().statusCode(200)
                .extract().jsonPath();
    }

    @Test
    void anAnsweredRequestsRecordsAreFramesInTheJournalFile() throws IOException {
        Traffic.run(audit, Traffic.Scenario.of(tenant(), Recorder.ENCRYPTED));
        try (Journal journal = Journal.open(DIR, "cleargate.journal", 8L << 20)) {
            assertFalse(journal.read().isEmpty(), "the answered request's records are frames in the journal");
        }
    }

    @Test
    void aRecordIsFoundByTheComplianceApiAsSoonAsItsRequestWasAnswered() {
        String t = tenant();
        for (int i = 0; i < 20; i++) {
            var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
            assertTrue(run.sink().ended);
            JsonPath found = records("request_id=" + run.exchange().requestId());
            assertEquals(List.of("final"), found.getList("items.kind"), "request " + i);
        }
        JsonPath all = records("tenant=" + t + "&kind=final&limit=100");
        assertEquals(20, all.getList("items").size());
    }

    @Test
    void theRequestRecordIsReadableWhenTheEngineIsCalled() {
        String t = tenant();
        List<Object> seenAtOpen = new ArrayList<>();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED),
                d -> d.onOpen = () -> seenAtOpen.addAll(records("tenant=" + t).getList("items.kind")), s -> {});
        assertEquals(List.of("request"), seenAtOpen, run.exchange().requestId());
    }

    @Test
    void journaledRecordsVerifyAndTheirHeadIsSigned() {
        String t = tenant();
        for (int i = 0; i < 10; i++) {
            Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        }
        assertTrue(signer.checkpointAll() >= 1, "the head the journaled records moved to is signed");
        JsonPath verified = given().header("Authorization", auditor()).queryParam("tenant", t).get("/audit/verify")
                .then().statusCode(200).extract().jsonPath();
        assertTrue(verified.getBoolean("ok"), verified.prettify());
        assertEquals(List.of(20), verified.getList("chains.records"), verified.prettify());
    }

    @Test
    void anEntryTheDatabaseWouldRefuseIsRefusedAloneAndNeverAcknowledged() throws Exception {
        String t = tenant();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // Wider than the model column (VARCHAR(200)): H2 would refuse the row, so it is never journaled.
        var oversized = new Draft(t, "admin", null, now, t, "x", "m".repeat(300), null, "none", "complete",
                null, "|", "{\"kind\":\"admin\"}", null, Recorder.NONE, null, now);
        List<CompletableFuture<Appended>> good = new ArrayList<>();
        good.add(writer.append(recorder.admin(t, "test", "before", Map.of())));
        CompletableFuture<Appended> bad = writer.append(oversized);
        good.add(writer.append(recorder.admin(t, "test", "after", Map.of())));
        for (var f : good) {
            assertNotNull(f.get(10, TimeUnit.SECONDS));
        }
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                () -> bad.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("audit_entry.model is too long"), e.getCause().getMessage());
        assertEquals(List.of(1L, 2L), good.stream().map(f -> f.join().seq()).toList(), "no seq went to the refused entry");
        assertEquals(2, records("tenant=" + t + "&kind=admin").getList("items").size());
        assertTrue(writer.healthy());
    }

    @Test
    void theWriteProbeWritesNothingWhileTheApplierHasJustWrittenAndForcedTheStore() throws Exception {
        Traffic.run(audit, Traffic.Scenario.of(tenant(), Recorder.ENCRYPTED));
        writer.awaitStored(); // the applier inserts now, then forces H2: that write answers the probe
        boolean answeredWithoutWriting = false;
        for (int i = 0; i < 50 && !answeredWithoutWriting; i++) {
            String before = probeRow();
            assertTrue(writer.probe());
            answeredWithoutWriting = probeRow().equals(before);
            Thread.sleep(10);
        }
        assertTrue(answeredWithoutWriting, "the probe rewrote its row although the store had just taken a write");
    }

    /** The probe row as it stands: each write of the probe's changes its time and payload. */
    private String probeRow() throws Exception {
        try (var c = dataSource.getConnection(); var s = c.createStatement();
                var r = s.executeQuery("SELECT probed_at, payload FROM audit_probe WHERE id = 1")) {
            r.next();
            return r.getString(1) + "|" + r.getString(2);
        }
    }
}
