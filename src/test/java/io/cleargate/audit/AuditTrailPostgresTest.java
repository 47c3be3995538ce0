package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The audit trail on a real PostgreSQL server started by the test harness. */
@QuarkusTest
@TestProfile(PostgresProfile.class)
class AuditTrailPostgresTest extends AuditTrailContract {

    /** Where the harness's server keeps its data directory and its log. */
    @ConfigProperty(name = "bench.store-directory") String serverDirectory;

    @Test
    void adminEventsWithoutRetentionDatesAreWrittenWithoutAFailedStatement() throws Exception {
        String t = tenant();
        writer.appendDurably(recorder.admin(t, "test", "first", Map.of())); // a new chain: its head is created
        Path log = Path.of(serverDirectory, "log");
        long before = Files.size(log);
        // Admin events carry no content retention date: a null timestamp among the single statement's values.
        for (int i = 0; i < 5; i++) {
            writer.appendDurably(recorder.admin(t, "test", "probe-" + i, Map.of()));
        }
        String logged;
        try (var in = Files.newInputStream(log)) {
            in.skipNBytes(before);
            logged = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> errors = logged.lines().filter(l -> l.contains("ERROR:")).toList();
        assertEquals(List.of(), errors, "PostgreSQL refused a statement while admin events were written");
        assertEquals(6, entries(t).size());
        assertEquals(6, entries(t).getLast().seq);
    }
}
