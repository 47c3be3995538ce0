package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
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

    @Test
    void theWriterTakesAFreshConnectionWhenTheDatabaseEndsItsOwn() throws Exception {
        String t = tenant();
        writer.appendDurably(recorder.admin(t, "test", "first", Map.of())); // a new chain: written the general way
        writer.appendDurably(recorder.admin(t, "test", "second", Map.of())); // the single statement, on the writer's own connection
        List<Integer> ended = backendsWhoseLastStatementStartsWith("WITH moved AS");
        assertFalse(ended.isEmpty(), "no backend ran the single statement");
        try (var c = dataSource.getConnection(); var end = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
            for (int pid : ended) {
                end.setInt(1, pid);
                end.execute();
            }
        }
        for (int i = 0; i < 100 && backendsWhoseLastStatementStartsWith("WITH moved AS").stream().anyMatch(ended::contains); i++) {
            Thread.sleep(50);
        }
        // The next append finds the writer's connection gone and is written the general way; the one
        // after it takes the single statement again, on a fresh connection.
        writer.appendDurably(recorder.admin(t, "test", "third", Map.of()));
        writer.appendDurably(recorder.admin(t, "test", "fourth", Map.of()));
        assertEquals(List.of(1L, 2L, 3L, 4L), entries(t).stream().map(e -> (long) e.seq).toList());
        List<Integer> fresh = backendsWhoseLastStatementStartsWith("WITH moved AS");
        fresh.removeAll(ended);
        assertFalse(fresh.isEmpty(), "the single statement did not run again on a fresh connection");
    }

    private List<Integer> backendsWhoseLastStatementStartsWith(String prefix) throws SQLException {
        List<Integer> pids = new ArrayList<>();
        try (var c = dataSource.getConnection(); var select = c.prepareStatement(
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE ?")) {
            select.setString(1, prefix + "%");
            try (var r = select.executeQuery()) {
                while (r.next()) {
                    pids.add(r.getInt(1));
                }
            }
        }
        return pids;
    }
}
