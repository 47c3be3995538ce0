package io.cleargate.audit;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.Roles;
import io.cleargate.moderation.Verdict;
import io.cleargate.policy.DecisionInputs;
import io.cleargate.testsupport.TestCredentials;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The audit trail's behaviour, run against H2 and PostgreSQL by the subclasses. */
abstract class AuditTrailContract {

    @Inject AuditStage audit;
    @Inject AuditWriter writer;
    @Inject EntityManager em;
    @Inject CheckpointSigner signer;
    @Inject Retention retention;
    @Inject DecisionInputs decisionInputs;
    @Inject AdminEvents adminEvents;
    @Inject AuditConfig config;

    static String auditor() {
        return TestCredentials.bearer(Roles.AUDITOR, "ops", "audrey");
    }

    static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    static String officer(String tenant) {
        return TestCredentials.bearer(Roles.COMPLIANCE_OFFICER, tenant, "officer-" + tenant);
    }

    List<AuditEntry> entries(String chain) {
        return QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select e from AuditEntry e where e.chainId = :c order by e.seq", AuditEntry.class)
                .setParameter("c", chain).getResultList());
    }

    List<AuditEntry> byRequest(String requestId) {
        return QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select e from AuditEntry e where e.requestId = :r order by e.seq", AuditEntry.class)
                .setParameter("r", requestId).getResultList());
    }

    void sql(String statement, Object... params) {
        QuarkusTransaction.requiringNew().run(() -> {
            var q = em.createNativeQuery(statement);
            for (int i = 0; i < params.length; i++) {
                q.setParameter(i + 1, params[i]);
            }
            q.executeUpdate();
        });
    }

    /** n requests, so 2n chain entries (request + final), then a checkpoint over the head. */
    String seeded(int n) {
        String t = tenant();
        for (int i = 0; i < n; i++) {
            Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        }
        signer.checkpointAll();
        return t;
    }

    JsonPath verify(String tenant) {
        return given().header("Authorization", auditor()).queryParam("tenant", tenant)
                .get("/audit/verify").then().statusCode(200).extract().jsonPath();
    }

    // --- durability

    @Test
    void requestRecordIsDurableBeforeTheEngineIsCalled() {
        String t = tenant();
        List<AuditEntry> seenAtOpen = new ArrayList<>();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED),
                d -> d.onOpen = () -> seenAtOpen.addAll(entries(t)), s -> {});
        assertEquals(1, seenAtOpen.size());
        assertEquals("request", seenAtOpen.getFirst().kind);
        assertEquals("in_progress", seenAtOpen.getFirst().state);
        assertEquals(run.exchange().requestId(), seenAtOpen.getFirst().requestId);
    }

    @Test
    void finalRecordIsCommittedBeforeTheEndOfStreamReachesTheClient() {
        String t = tenant();
        List<AuditEntry> seenAtEnd = new ArrayList<>();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.REDACTED), d -> {}, sink -> sink.onChunk = c -> {
            if (c.endOfStream()) {
                seenAtEnd.addAll(entries(t));
            }
        });
        assertTrue(run.sink().ended);
        assertEquals(List.of("request", "final"), seenAtEnd.stream().map(e -> e.kind).toList());
        AuditEntry fin = seenAtEnd.get(1);
        assertEquals("complete", fin.state);
        assertEquals("Hi there", fin.content);
        assertEquals(200, fin.httpStatus);
        Map<String, Object> body = Canonical.parse(fin.body);
        assertEquals(Map.of("prompt_tokens", 5, "completion_tokens", 2), body.get("usage"));
        assertEquals("rev-7", ((Map<?, ?>) body.get("policy")).get("bundle_revision"));
        // Redacted mode keeps the prompt the engine was sent, not the raw one.
        assertEquals("[{\"content\":\"hello [EMAIL]\",\"role\":\"user\"}]", seenAtEnd.getFirst().content);
    }

    @Test
    void storeThatCannotWriteRefusesWith503AndTurnsReadinessFalse() {
        String t = tenant();
        auditReadiness("UP");
        sql("ALTER TABLE audit_entry RENAME TO audit_entry_offline");
        try {
            var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
            assertNotNull(run.sink().error);
            assertEquals(503, run.sink().error.status());
            assertEquals("audit_unavailable", run.sink().error.code());
            assertFalse(run.dispatcher().opened, "the engine must not be called without a durable record");
            assertFalse(writer.healthy());
            auditReadiness("DOWN");
        } finally {
            sql("ALTER TABLE audit_entry_offline RENAME TO audit_entry");
        }
        assertTrue(writer.probe());
        auditReadiness("UP");
        assertTrue(Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED)).sink().ended);
    }


    /** The audit store's own readiness check (the others, OPA and backends, have no server in this test). */
    private static void auditReadiness(String status) {
        given().get("/q/health/ready").then()
                .body("checks.find { it.name == 'audit-store' }.status", org.hamcrest.Matchers.equalTo(status));
        if (status.equals("DOWN")) {
            given().get("/q/health/ready").then().statusCode(503);
        }
    }
    @Test
    void policyDenialIsRecordedWithReasonsAndTheExactPolicyInput() {
        String t = tenant();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.HASH_ONLY).denied());
        assertEquals(403, run.sink().error.status());
        List<AuditEntry> recorded = byRequest(run.exchange().requestId());
        assertEquals(1, recorded.size());
        AuditEntry e = recorded.getFirst();
        assertEquals("refusal", e.kind);
        assertEquals("deny", e.decision);
        assertEquals(403, e.httpStatus);
        assertTrue(e.tags.contains("|reason:model_not_allowed|"));
        Map<String, Object> body = Canonical.parse(e.body);
        assertEquals(Map.of("tenant", t, "model", "mock", "roles", List.of("gateway-user")), body.get("policy_input"));
        assertEquals(List.of(Map.of("tenant", t, "model", "mock", "roles", List.of("gateway-user"))),
                decisionInputs.recentPolicyInputs(t, 5));
    }

    @Test
    void upstreamFailureMidStreamLeavesAnIncompleteRecordWithWhatWasSent() {
        String t = tenant();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.REDACTED).failingMidStream());
        List<AuditEntry> recorded = byRequest(run.exchange().requestId());
        assertEquals(2, recorded.size());
        assertEquals("incomplete", recorded.get(1).state);
        assertEquals("Hi there", recorded.get(1).content);
        assertEquals(run.sink().text(), recorded.get(1).content);
    }

    @Test
    void clientDisconnectLeavesAnIncompleteRecord() {
        String t = tenant();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.REDACTED), d -> {}, s -> s.goneAfterFirst = true);
        List<AuditEntry> recorded = byRequest(run.exchange().requestId());
        assertEquals("incomplete", recorded.getLast().state);
        assertEquals(499, recorded.getLast().httpStatus);
    }

    @Test
    void concurrentRequestsShareOneContiguousVerifiableChainAcrossTwoWriters() throws Exception {
        String t = tenant();
        // A second writer on the same database stands for a second gateway replica.
        var replica = new AuditWriter(em, config);
        replica.start(null);
        var recorder = new Recorder(new Keyring(em, config), config);
        var replicaStage = new AuditStage(replica, recorder);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 60; i++) {
                AuditStage stage = i % 2 == 0 ? audit : replicaStage;
                pool.submit(() -> Traffic.run(stage, Traffic.Scenario.of(t, Recorder.ENCRYPTED)));
            }
        }
        replica.stop(null);
        List<AuditEntry> chain = entries(t);
        assertEquals(120, chain.size());
        for (int i = 0; i < chain.size(); i++) {
            assertEquals(i + 1, chain.get(i).seq);
        }
        signer.checkpointAll();
        JsonPath result = verify(t);
        assertTrue(result.getBoolean("ok"), result.prettify());
    }

    // --- tamper evidence, through the verification endpoint

    @Test
    void untouchedChainVerifiesWithItsCheckpoint() {
        String t = seeded(3);
        JsonPath r = verify(t);
        assertTrue(r.getBoolean("ok"));
        assertEquals(6, r.getInt("chains[0].records"));
        assertEquals(1, r.getInt("chains[0].checkpointsVerified"));
    }

    @Test
    void editedRecordIsNamed() {
        String t = seeded(5);
        sql("UPDATE audit_entry SET body = REPLACE(body, 'mock', 'mokk') WHERE chain_id = ? AND seq = 3", t);
        assertEquals(3, verify(t).getInt("chains[0].firstBadSeq"));
    }

    @Test
    void editedIndexColumnIsNamed() {
        String t = seeded(5);
        sql("UPDATE audit_entry SET tenant = 'someone-else' WHERE chain_id = ? AND seq = 4", t);
        assertEquals(4, verify(t).getInt("chains[0].firstBadSeq"));
    }

    @Test
    void deletedRecordIsNamed() {
        String t = seeded(5);
        sql("DELETE FROM audit_entry WHERE chain_id = ? AND seq = 3", t);
        assertEquals(3, verify(t).getInt("chains[0].firstBadSeq"));
    }

    @Test
    void insertedRecordIsNamed() {
        String t = seeded(5);
        sql("UPDATE audit_entry SET seq = seq + 1000 WHERE chain_id = ? AND seq >= 3", t);
        sql("UPDATE audit_entry SET seq = seq - 999 WHERE chain_id = ? AND seq >= 1000", t);
        sql("INSERT INTO audit_entry (id, chain_id, seq, kind, request_id, recorded_at, tenant, subject, model, region,"
                + " decision, state, http_status, tags, body, body_sha256, prev_hash, entry_hash, content, content_mode,"
                + " content_expires_at, metadata_expires_at) SELECT id + 100000000, chain_id, 3, kind,"
                + " request_id, recorded_at, tenant, subject, model, region, decision, state, http_status, tags, body,"
                + " body_sha256, prev_hash, entry_hash, content, content_mode, content_expires_at, metadata_expires_at"
                + " FROM audit_entry WHERE chain_id = ? AND seq = 6", t);
        assertEquals(3, verify(t).getInt("chains[0].firstBadSeq"));
    }

    @Test
    void reorderedRecordsAreNamed() {
        String t = seeded(5);
        sql("UPDATE audit_entry SET seq = -1 WHERE chain_id = ? AND seq = 3", t);
        sql("UPDATE audit_entry SET seq = 3 WHERE chain_id = ? AND seq = 4", t);
        sql("UPDATE audit_entry SET seq = 4 WHERE chain_id = ? AND seq = -1", t);
        assertEquals(3, verify(t).getInt("chains[0].firstBadSeq"));
    }

    @Test
    void truncationBelowTheLastSignedCheckpointIsDetected() {
        String t = seeded(5);
        AuditEntry sixth = entries(t).get(5);
        sql("DELETE FROM audit_entry WHERE chain_id = ? AND seq > 6", t);
        sql("UPDATE audit_chain SET head_seq = 6, head_hash = ? WHERE chain_id = ?", sixth.entryHash, t);
        JsonPath r = verify(t);
        assertEquals(7, r.getInt("chains[0].firstBadSeq"));
        assertTrue(r.getString("chains[0].problem").startsWith("truncated"));
    }

    // --- tamper evidence, offline: audit/verify on exports

    Path export(String tenant) throws Exception {
        signer.checkpointAll();
        String body = given().header("Authorization", auditor()).queryParam("tenant", tenant)
                .get("/audit/export").then().statusCode(200).extract().asString();
        Path file = Files.createTempFile("audit-export", ".jsonl");
        Files.writeString(file, body, StandardCharsets.UTF_8);
        return file;
    }

    static Verified offline(Path file) throws Exception {
        Process p = new ProcessBuilder("python3", "audit/verify", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Verified(p.waitFor(), out);
    }

    record Verified(int exit, String output) {}

    static Path tampered(Path file, UnaryOperator<List<String>> change) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        Path out = Files.createTempFile("audit-tampered", ".jsonl");
        Files.write(out, change.apply(lines));
        return out;
    }

    static int line(List<String> lines, long seq) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("\"type\":\"record\"") && lines.get(i).contains("\"seq\":" + seq + ",")) {
                return i;
            }
        }
        throw new AssertionError("no record " + seq);
    }

    @Test
    void offlineVerifierAcceptsAGoodExportAndNamesTheFirstBadRecordOfTamperedOnes() throws Exception {
        String t = seeded(5);
        Path good = export(t);
        Verified ok = offline(good);
        assertEquals(0, ok.exit(), ok.output());
        // 10 request entries and the export's own admin event, recorded before the export was written.
        assertTrue(ok.output().contains("OK chain " + t + ": 11 records"), ok.output());

        Verified edited = offline(tampered(good, l -> {
            int i = line(l, 3);
            l.set(i, l.get(i).replace("mock", "mokk"));
            return l;
        }));
        assertEquals(1, edited.exit());
        assertTrue(edited.output().contains("first bad seq 3"), edited.output());

        Verified deleted = offline(tampered(good, l -> {
            l.remove(line(l, 4));
            return l;
        }));
        assertTrue(deleted.output().contains("first bad seq 4"), deleted.output());

        Verified inserted = offline(tampered(good, l -> {
            l.add(line(l, 5), l.get(line(l, 2)));
            return l;
        }));
        assertTrue(inserted.output().contains("first bad seq 5"), inserted.output());

        Verified reordered = offline(tampered(good, l -> {
            int a = line(l, 6);
            int b = line(l, 7);
            String x = l.get(a);
            l.set(a, l.get(b));
            l.set(b, x);
            return l;
        }));
        assertTrue(reordered.output().contains("first bad seq 6"), reordered.output());

        Verified truncated = offline(tampered(good, l -> {
            l.removeIf(s -> s.contains("\"type\":\"record\"") && s.matches(".*\"seq\":(9|10|11),.*"));
            return l;
        }));
        assertEquals(1, truncated.exit());
        assertTrue(truncated.output().contains("first bad seq 9: truncated"), truncated.output());

        // A time-filtered export is a contiguous piece of the chain, anchored at its first record.
        String from = entries(t).get(4).recordedAt.toString();
        String partial = given().header("Authorization", auditor()).queryParam("tenant", t).queryParam("from", from)
                .get("/audit/export").then().statusCode(200).extract().asString();
        Path partialFile = Files.createTempFile("audit-partial", ".jsonl");
        Files.writeString(partialFile, partial);
        Verified piece = offline(partialFile);
        assertEquals(0, piece.exit(), piece.output());
        assertTrue(partial.contains("\"whole_chains\":false"));

        Verified forgedCheckpoint = offline(tampered(good, l -> {
            int last = l.size() - 1;
            l.set(last, l.get(last).replace("\"seq\":10", "\"seq\":11"));
            return l;
        }));
        assertEquals(1, forgedCheckpoint.exit());
        assertTrue(forgedCheckpoint.output().contains("signature"), forgedCheckpoint.output());
    }

    // --- content modes, viewing, erasure, retention

    @Test
    void encryptedContentIsReadableByTheTenantsOfficerAndTheViewIsRecorded() {
        String t = tenant();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        AuditEntry request = byRequest(run.exchange().requestId()).getFirst();
        assertFalse(request.content.contains("secret@example.com"), "stored encrypted");
        JsonPath detail = given().header("Authorization", officer(t)).get("/audit/records/" + request.id)
                .then().statusCode(200).extract().jsonPath();
        assertTrue(detail.getString("entries[0].content.text").contains("hello secret@example.com"));
        assertEquals("Hi there", detail.getString("entries[1].content.text"));
        AuditEntry view = entries(t).getLast();
        assertEquals("admin", view.kind);
        assertTrue(view.body.contains("\"action\":\"content_view\""));
    }

    @Test
    void hashOnlyModeStoresAnHmacThatTheHelperEndpointReproduces() {
        String t = tenant();
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.HASH_ONLY));
        AuditEntry fin = byRequest(run.exchange().requestId()).getLast();
        String hmac = given().header("Authorization", officer(t)).contentType("application/json")
                .body(Map.of("value", "Hi there")).post("/audit/hmac").then().statusCode(200)
                .extract().path("hmac");
        assertEquals(fin.content, hmac);
        assertEquals(64, hmac.length());
    }

    @Test
    void erasingASubjectShredsItsContentButTheChainStillVerifies() {
        String t = tenant();
        var bob = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).subject("bob"));
        var carol = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).subject("carol"));
        given().header("Authorization", officer(t)).contentType("application/json")
                .body(Map.of("tenant", t, "subject", "bob")).post("/audit/erasure").then().statusCode(200);
        long bobId = byRequest(bob.exchange().requestId()).getFirst().id;
        long carolId = byRequest(carol.exchange().requestId()).getFirst().id;
        JsonPath erased = given().header("Authorization", officer(t)).get("/audit/records/" + bobId)
                .then().statusCode(200).extract().jsonPath();
        assertTrue(erased.getBoolean("entries[0].content.erased"));
        assertNull(erased.get("entries[0].content.text"));
        JsonPath kept = given().header("Authorization", officer(t)).get("/audit/records/" + carolId)
                .then().statusCode(200).extract().jsonPath();
        assertTrue(kept.getString("entries[0].content.text").contains("secret@example.com"));
        assertTrue(entries(t).stream().anyMatch(e -> e.body.contains("\"action\":\"erasure\"")));
        assertTrue(verify(t).getBoolean("ok"));
    }

    @Test
    void retentionPurgeRemovesExpiredContentKeepsTheChainValidAndRespectsLegalHold() {
        String held = tenant();
        String free = tenant();
        Traffic.run(audit, Traffic.Scenario.of(held, Recorder.REDACTED));
        Traffic.run(audit, Traffic.Scenario.of(free, Recorder.REDACTED));
        signer.checkpointAll();
        given().header("Authorization", officer(held)).contentType("application/json")
                .body(Map.of("reason", "litigation")).put("/audit/legal-holds/" + held).then().statusCode(200);
        // Content is kept 30 days and metadata 365 by the scenario's policy: purge as of 400 days later.
        retention.purge(Instant.now().plus(400, ChronoUnit.DAYS));
        assertTrue(entries(free).stream().filter(e -> !"admin".equals(e.kind)).allMatch(e -> e.content == null && e.body == null));
        assertTrue(entries(held).stream().filter(e -> !"admin".equals(e.kind)).allMatch(e -> e.content != null && e.body != null));
        assertTrue(verify(free).getBoolean("ok"), verify(free).prettify());
        assertTrue(verify(held).getBoolean("ok"));
    }

    // --- compliance API

    @Test
    void officerOfOneTenantGetsNothingOfAnotherByAnyFilterIdOrExport() {
        String a = tenant();
        String b = tenant();
        Traffic.run(audit, Traffic.Scenario.of(a, Recorder.ENCRYPTED));
        var bRun = Traffic.run(audit, Traffic.Scenario.of(b, Recorder.ENCRYPTED)
                .verdicts(new Verdict("r1", "pii.email", Verdict.Action.REDACT, Verdict.Direction.INPUT, 6, 24, 0.9)));
        long bId = byRequest(bRun.exchange().requestId()).getFirst().id;
        String officerA = officer(a);
        given().header("Authorization", officerA).queryParam("tenant", b).get("/audit/records").then().statusCode(403);
        for (String[] filter : new String[][] {{"subject", "alice"}, {"model", "mock"}, {"region", "eu"},
                {"category", "pii.email"}, {"action", "redact"}, {"decision", "allow"}, {"status", "complete"}}) {
            List<String> tenants = given().header("Authorization", officerA).queryParam(filter[0], filter[1])
                    .get("/audit/records").then().statusCode(200).extract().jsonPath().getList("items.tenant");
            assertTrue(tenants.stream().allMatch(a::equals), filter[0] + " leaked " + tenants);
        }
        given().header("Authorization", officerA).get("/audit/records/" + bId).then().statusCode(404);
        given().header("Authorization", officerA).queryParam("tenant", b).get("/audit/export").then().statusCode(403);
        String export = given().header("Authorization", officerA).get("/audit/export").then().statusCode(200)
                .extract().asString();
        assertFalse(export.contains(b));
        assertTrue(export.contains(a));
        String csv = given().header("Authorization", officerA).queryParam("format", "csv").get("/audit/export")
                .then().statusCode(200).extract().asString();
        assertFalse(csv.contains(b));
        given().header("Authorization", officerA).queryParam("tenant", b).get("/audit/verify").then().statusCode(403);
        given().header("Authorization", officerA).queryParam("tenant", b).get("/audit/summary").then().statusCode(403);
        List<String> summaryTenants = given().header("Authorization", officerA).get("/audit/summary").then()
                .statusCode(200).extract().jsonPath().getList("rows.tenant");
        assertEquals(List.of(a), summaryTenants);
        given().header("Authorization", officerA).contentType("application/json").body(Map.of("tenant", b, "value", "x"))
                .post("/audit/hmac").then().statusCode(403);
        given().get("/audit/records").then().statusCode(401);
        given().header("Authorization", TestCredentials.bearer(Roles.GATEWAY_USER, a, "u")).get("/audit/records")
                .then().statusCode(403);
    }

    @Test
    void searchFiltersAndPagesStablyAndSummaryCountsByCategory() {
        String t = tenant();
        Verdict email = new Verdict("r1", "pii.email", Verdict.Action.REDACT, Verdict.Direction.INPUT, 6, 24, 0.9);
        Verdict key = new Verdict("r2", "secret.private_key", Verdict.Action.BLOCK, Verdict.Direction.OUTPUT, 0, 5, 1.0);
        for (int i = 0; i < 5; i++) {
            Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).verdicts(email));
        }
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).verdicts(key));
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).denied());
        List<Object> seen = new ArrayList<>();
        String next = null;
        do {
            var page = given().header("Authorization", auditor()).queryParam("tenant", t).queryParam("limit", 2)
                    .queryParam("after", next == null ? "" : next).get("/audit/records")
                    .then().statusCode(200).extract().jsonPath();
            seen.addAll(page.getList("items.id"));
            next = page.getString("next");
        } while (next != null);
        assertEquals(7, seen.size());
        assertEquals(seen.stream().distinct().count(), seen.size());
        assertEquals(5, given().header("Authorization", auditor()).queryParam("tenant", t)
                .queryParam("category", "pii.email").queryParam("action", "redact").get("/audit/records")
                .then().extract().jsonPath().getList("items").size());
        assertEquals(0, given().header("Authorization", auditor()).queryParam("tenant", t)
                .queryParam("category", "pii%").get("/audit/records")
                .then().extract().jsonPath().getList("items").size(), "LIKE wildcards match literally");
        assertEquals(1, given().header("Authorization", auditor()).queryParam("tenant", t)
                .queryParam("decision", "deny").get("/audit/records").then().extract().jsonPath().getList("items").size());
        JsonPath summary = given().header("Authorization", auditor()).queryParam("tenant", t).get("/audit/summary")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(5, summary.getInt("rows[0].redacted.'pii.email'"));
        assertEquals(1, summary.getInt("rows[0].blocked.'secret.private_key'"));
        assertEquals(1, summary.getInt("rows[0].denials.model_not_allowed"));
        assertEquals(7, summary.getInt("rows[0].requests"));
    }

    @Test
    void adminEventsJoinTheTenantsChain() {
        String t = tenant();
        adminEvents.record(t, "pat", "policy_change", Map.of("revision", "rev-8"));
        AuditEntry e = entries(t).getFirst();
        assertEquals("admin", e.kind);
        assertEquals(1, e.seq);
        assertTrue(e.body.contains("\"action\":\"policy_change\""));
    }
}
