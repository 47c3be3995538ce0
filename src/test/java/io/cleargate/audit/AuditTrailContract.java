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
import io.cleargate.testsupport.Scratch;
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
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The audit trail's behaviour, run against H2 and PostgreSQL by the subclasses. */
abstract class AuditTrailContract {

    @Inject AuditStage audit;
    @Inject AuditWriter writer;
    @Inject EntityManager em;
    @Inject javax.sql.DataSource dataSource;
    @Inject CheckpointSigner signer;
    @Inject Retention retention;
    @Inject DecisionInputs decisionInputs;
    @Inject AdminEvents adminEvents;
    @Inject AuditConfig config;
    @Inject Recorder recorder;

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
        assertEquals(Map.of("prompt_tokens", 5, "completion_tokens", 2, "estimated", false), body.get("usage"));
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
        var replica = new AuditWriter(em, dataSource, config);
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
        // Edited as stored (deflated), so only the hash can tell.
        String edited = entries(t).get(2).body.replace("mock", "mokk");
        sql("UPDATE audit_entry SET body = ? WHERE chain_id = ? AND seq = 3", StoredBody.encode(edited), t);
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
        Path file = Scratch.file("audit-export", ".jsonl");
        Files.writeString(file, body, StandardCharsets.UTF_8);
        return file;
    }

    static Verified offline(Path file, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", "audit/verify", file.toString()));
        command.addAll(List.of(options));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Verified(p.waitFor(), out);
    }

    record Verified(int exit, String output) {}

    static Path tampered(Path file, UnaryOperator<List<String>> change) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        Path out = Scratch.file("audit-tampered", ".jsonl");
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
        Path partialFile = Scratch.file("audit-partial", ".jsonl");
        Files.writeString(partialFile, partial);
        Verified piece = offline(partialFile);
        assertEquals(0, piece.exit(), piece.output());
        assertTrue(partial.contains("\\\"whole_chains\\\":false"), "the signed scope says partial");

        Verified forgedCheckpoint = offline(tampered(good, l -> {
            int last = l.size() - 1;
            l.set(last, l.get(last).replace("\"seq\":11,", "\"seq\":10,"));
            return l;
        }));
        assertEquals(1, forgedCheckpoint.exit());
        assertTrue(forgedCheckpoint.output().contains("signature"), forgedCheckpoint.output());
    }

    // --- evidence that cannot be rewritten

    @Inject io.micrometer.core.instrument.MeterRegistry meters;

    static List<Map<String, Object>> parsed(Path file) throws Exception {
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(Canonical::parse).toList();
    }

    static Path written(List<Map<String, Object>> lines) throws Exception {
        Path out = Scratch.file("audit-tampered", ".jsonl");
        Files.write(out, lines.stream().map(Canonical::json).toList());
        return out;
    }

    static long seqOf(Map<String, Object> line) {
        return ((Number) line.get("seq")).longValue();
    }

    /**
     * What someone without the key would do: edit the record at {@code seq}, recompute its body
     * hash and every later link, and drop the checkpoints that now disagree.
     */
    static List<Map<String, Object>> rewrittenFrom(List<Map<String, Object>> lines, long seq) {
        List<Map<String, Object>> out = new ArrayList<>();
        String prev = null;
        for (Map<String, Object> l : lines) {
            Map<String, Object> m = new java.util.LinkedHashMap<>(l);
            if ("checkpoint".equals(m.get("type")) && seqOf(m) >= seq) {
                continue;
            }
            if ("record".equals(m.get("type")) && seqOf(m) >= seq) {
                if (seqOf(m) == seq) {
                    m.put("body", ((String) m.get("body")).replace("mock", "mokk"));
                    m.put("body_sha256", Canonical.sha256((String) m.get("body")));
                } else {
                    m.put("prev_hash", prev);
                }
                m.put("entry_hash", Canonical.entryHash((String) m.get("chain"), seqOf(m), (String) m.get("prev_hash"),
                        (String) m.get("body_sha256")));
            }
            if ("record".equals(m.get("type"))) {
                prev = (String) m.get("entry_hash");
            }
            out.add(m);
        }
        return out;
    }

    /** The same rewrite in the database, head row included, as someone with write access would. */
    void rewriteInDatabase(String t, long seq) {
        List<AuditEntry> chain = entries(t);
        String prev = chain.get((int) seq - 2).entryHash;
        for (AuditEntry e : chain.subList((int) seq - 1, chain.size())) {
            String body = e.seq == seq ? e.body.replace("mock", "mokk") : e.body;
            String bodySha = Canonical.sha256(body);
            String hash = Canonical.entryHash(t, e.seq, prev, bodySha);
            // The searchable copy is kept in step too, so only the hashes can tell.
            sql("UPDATE audit_entry SET body = ?, body_sha256 = ?, prev_hash = ?, entry_hash = ?, model = ?"
                    + " WHERE chain_id = ? AND seq = ?", body, bodySha, prev, hash,
                    IndexColumns.of(Canonical.parse(body)).model(), t, e.seq);
            prev = hash;
        }
        sql("UPDATE audit_chain SET head_hash = ? WHERE chain_id = ?", prev, t);
    }

    static Path lastCheckpointOf(Path export) throws Exception {
        List<String> lines = Files.readAllLines(export);
        Path saved = Scratch.file("saved-checkpoint", ".jsonl");
        Files.writeString(saved, lines.getLast() + "\n");
        return saved;
    }

    @Test
    void exportEndsWithACheckpointSignedAtExportTimeUnderASignedHeader() throws Exception {
        String t = seeded(2);
        Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<Map<String, Object>> lines = parsed(export(t));
        Map<String, Object> header = lines.getFirst();
        assertEquals("cleargate-audit-export/2", header.get("format"));
        Map<String, Object> scope = Canonical.parse((String) header.get("scope"));
        Map<?, ?> span = (Map<?, ?>) ((Map<?, ?>) scope.get("chains")).get(t);
        assertEquals(true, scope.get("whole_chains"));
        Map<String, Object> last = lines.getLast();
        assertEquals("checkpoint", last.get("type"));
        assertEquals(((Number) span.get("last_seq")).longValue(), seqOf(last));
        assertEquals(span.get("last_hash"), last.get("head_hash"));
        assertFalse(Instant.parse((String) last.get("signed_at")).isBefore(before), "signed at export time");
        assertEquals(signer.publicKeys(), header.get("signing_keys"));
    }

    @Test
    void offlineVerifierRejectsStrippedCheckpointsTruncationRewritesSplicesAndHeaderEdits() throws Exception {
        String t = seeded(5);
        Path good = export(t);
        List<Map<String, Object>> lines = parsed(good);
        assertEquals(0, offline(good).exit());

        List<Map<String, Object>> stripped = lines.stream().filter(l -> !"checkpoint".equals(l.get("type"))).toList();
        Verified noCheckpoints = offline(written(stripped));
        assertEquals(1, noCheckpoints.exit(), noCheckpoints.output());
        assertTrue(noCheckpoints.output().contains("first bad seq 1: records 1..11 are not covered by a signed checkpoint"),
                noCheckpoints.output());

        // Cut after seq 8 together with every checkpoint beyond the cut.
        List<Map<String, Object>> cut = lines.stream().filter(l -> !l.containsKey("seq") || seqOf(l) <= 8).toList();
        Verified truncated = offline(written(cut));
        assertEquals(1, truncated.exit());
        assertTrue(truncated.output().contains("first bad seq 9: truncated"), truncated.output());

        Verified rewritten = offline(written(rewrittenFrom(lines, 3)));
        assertEquals(1, rewritten.exit());
        assertTrue(rewritten.output().contains("first bad seq 11: last record differs from the signed header"),
                rewritten.output());


        // Another tenant's records spliced into this chain's place.
        String other = seeded(5);
        List<Map<String, Object>> foreign = parsed(export(other));
        List<Map<String, Object>> spliced = new ArrayList<>();
        for (Map<String, Object> l : lines) {
            boolean replace = "record".equals(l.get("type")) && seqOf(l) >= 4 && seqOf(l) <= 6;
            spliced.add(replace ? foreign.stream().filter(f -> "record".equals(f.get("type")) && seqOf(f) == seqOf(l))
                    .findFirst().orElseThrow() : l);
        }
        Verified splice = offline(written(spliced));
        assertEquals(1, splice.exit());
        assertTrue(splice.output().contains("first bad seq 4"), splice.output());
        // The other chain appended whole: not in the signed header.
        List<Map<String, Object>> appended = new ArrayList<>(lines);
        appended.addAll(foreign.subList(1, foreign.size()));
        Verified extraChain = offline(written(appended));
        assertEquals(1, extraChain.exit());
        assertTrue(extraChain.output().contains("not in the signed header"), extraChain.output());

        for (String[] edit : new String[][] {{"\"whole_chains\":true", "\"whole_chains\":false"},
                {"\"tenant\":\"" + t + "\"", "\"tenant\":null"}, {"\"last_seq\":11", "\"last_seq\":8"}}) {
            List<Map<String, Object>> edited = new ArrayList<>(lines);
            Map<String, Object> header = new java.util.LinkedHashMap<>(lines.getFirst());
            String scope = (String) header.get("scope");
            assertTrue(scope.contains(edit[0]), scope);
            header.put("scope", scope.replace(edit[0], edit[1]));
            edited.set(0, header);
            Verified headerEdit = offline(written(edited));
            assertEquals(1, headerEdit.exit(), edit[0]);
            assertTrue(headerEdit.output().contains("FAIL header: signature does not verify"), headerEdit.output());
        }
    }

    @Test
    void theScheduledSignerSignsTheHeadFromItsBackgroundThread() {
        String t = tenant();
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        long head = QuarkusTransaction.requiringNew().call(() -> em.find(ChainHead.class, t).headSeq);
        signer.scheduled(); // as the scheduler calls it: on a background thread, through the jobs' gate
        assertTrue(QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(t)).stream().anyMatch(c -> c.seq == head),
                "no checkpoint at the head, seq " + head);
    }

    @Test
    void signerRefusesAHeadThatDoesNotExtendItsLastCheckpointAndAlerts() {
        String t = seeded(4);
        double refusals = meters.counter("cleargate.audit.checkpoint.refusals").count();
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        rewriteInDatabase(t, 3);
        signer.checkpointAll();
        assertTrue(QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(t)).stream().noneMatch(c -> c.seq == 10),
                "the rewritten head must not be signed");
        assertTrue(meters.counter("cleargate.audit.checkpoint.refusals").count() > refusals);
        given().get("/q/metrics").then().body(org.hamcrest.Matchers.containsString("cleargate_audit_checkpoint_refusals_total"));
        JsonPath r = verify(t);
        assertFalse(r.getBoolean("ok"));
        assertEquals(8, r.getInt("chains[0].firstBadSeq"), r.prettify());

        // Deleting the stored checkpoints does not help: the witness outside the database remembers the head.
        sql("DELETE FROM audit_checkpoint WHERE chain_id = ?", t);
        double before = meters.counter("cleargate.audit.checkpoint.refusals").count();
        signer.checkpointAll();
        assertTrue(QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(t)).isEmpty());
        assertTrue(meters.counter("cleargate.audit.checkpoint.refusals").count() > before);
        JsonPath after = verify(t);
        assertFalse(after.getBoolean("ok"));
        assertEquals(8, after.getInt("chains[0].firstBadSeq"), after.prettify());
    }

    /** A chain with a checkpoint at seq 2 and then three slices' worth of records above it; returns the tenant. */
    String unsignedSlices() {
        String t = seeded(1);
        for (int i = 0; i < CheckpointSigner.PAGE; i++) {
            Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        }
        return t;
    }

    /** Runs {@code change} once, at the signer's first pause: after it checked its first slice, before the rest. */
    static java.util.function.LongFunction<Runnable> once(Runnable change) {
        boolean[] done = {false};
        return records -> () -> {
            if (!done[0]) {
                done[0] = true;
                change.run();
            }
        };
    }

    @Test
    void aChainRewrittenFromARecordTheSignerHadAlreadyCheckedIsRefusedBeforeTheHeadIsSigned() {
        String t = unsignedSlices();
        long head = QuarkusTransaction.requiringNew().call(() -> em.find(ChainHead.class, t).headSeq);
        double refusals = meters.counter("cleargate.audit.checkpoint.refusals").count();
        // Seq 10 lies in the first slice; it and every record after it are re-linked, the head included.
        signer.checkpointAll(once(() -> rewriteInDatabase(t, 10)));
        assertTrue(QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(t)).stream().noneMatch(c -> c.seq >= head),
                "neither the head read before the rewrite nor the rewritten one may be signed");
        assertTrue(meters.counter("cleargate.audit.checkpoint.refusals").count() > refusals);
    }

    @Test
    void aRecordEditedAfterTheSignerCheckedItIsNamedAgainstTheCheckpointSignedOverIt() {
        String t = unsignedSlices();
        long head = QuarkusTransaction.requiringNew().call(() -> em.find(ChainHead.class, t).headSeq);
        // Seq 3, in the first slice, edited as stored and not re-linked: the signature covers it as it was read.
        signer.checkpointAll(once(() -> sql("UPDATE audit_entry SET body = ? WHERE chain_id = ? AND seq = 3",
                StoredBody.encode(entries(t).get(2).body.replace("mock", "mokk")), t)));
        assertTrue(QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(t)).stream().anyMatch(c -> c.seq == head));
        JsonPath r = verify(t);
        assertFalse(r.getBoolean("ok"));
        assertEquals(3, r.getInt("chains[0].firstBadSeq"), r.prettify());
    }

    @Test
    void aCallerWaitingToSignEndsTheScheduledRunsPausesAndIsServedAfterIt() throws Exception {
        String t = unsignedSlices();
        for (int i = 0; i < 2 * CheckpointSigner.PAGE; i++) { // five slices or more: room for several pauses
            Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        }
        long head = QuarkusTransaction.requiringNew().call(() -> em.find(ChainHead.class, t).headSeq);
        int[] pauses = {0};
        Thread waiting = new Thread(signer::checkpointAll);
        signer.checkpointAll(records -> () -> {
            if (pauses[0]++ == 0) {
                // At the first pause, another caller (as an export or a verify would) asks to sign.
                waiting.start();
                for (int i = 0; i < 10_000 && !signer.signingWanted(); i++) {
                    LockSupport.parkNanos(1_000_000);
                }
            }
        });
        waiting.join();
        assertEquals(1, pauses[0], "no pause after a caller began waiting for the signer");
        assertTrue(QuarkusTransaction.requiringNew().call(() -> signer.checkpoints(t)).stream().anyMatch(c -> c.seq == head));
    }

    @Test
    void exportProvesItExtendsACheckpointSavedEarlierAndAWitnessCatchesARewriteSignedWithTheStolenKey() throws Exception {
        String t = seeded(3);
        Path first = export(t);
        Path saved = lastCheckpointOf(first);
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        Path later = export(t);
        Path witness = signer.witnessFile();
        Verified extends_ = offline(later, "--pubkey", signer.publicKeyHex(), "--since", saved.toString(),
                "--witness", witness.toString());
        assertEquals(0, extends_.exit(), extends_.output());
        assertTrue(extends_.output().contains("extends the saved checkpoint at seq 7"), extends_.output());

        // Whoever holds the signing key and the database rewrites seq 3, deletes the stored
        // checkpoints and signs a fresh export. The signature alone cannot tell ...
        rewriteInDatabase(t, 3);
        sql("DELETE FROM audit_checkpoint WHERE chain_id = ?", t);
        Path thiefWitness = Scratch.file("thief-witness", ".jsonl");
        var thief = new CheckpointSigner(em, CheckpointSigner.keys(config),
                new CheckpointWitness(thiefWitness, java.util.Optional.empty(), java.time.Duration.ofSeconds(1), null), null);
        var out = new java.io.StringWriter();
        new Exporter(em, thief, out, false).write(List.of(t), Map.of("tenant", t), null, null);
        Path forged = Scratch.file("audit-forged", ".jsonl");
        Files.writeString(forged, out.toString());
        Verified signatureOnly = offline(forged, "--pubkey", signer.publicKeyHex());
        assertEquals(0, signatureOnly.exit(), signatureOnly.output());
        // ... but the checkpoint saved earlier and the witness file can.
        Verified since = offline(forged, "--pubkey", signer.publicKeyHex(), "--since", saved.toString());
        assertEquals(1, since.exit(), since.output());
        assertTrue(since.output().contains("first bad seq 7: differs from the checkpoint saved earlier"), since.output());
        Verified witnessed = offline(forged, "--pubkey", signer.publicKeyHex(), "--witness", witness.toString());
        assertEquals(1, witnessed.exit(), witnessed.output());
        // An earlier export cannot pass for a later one: it ends before the saved checkpoint.
        Verified rolledBack = offline(first, "--since", lastCheckpointOf(later).toString());
        assertEquals(1, rolledBack.exit(), rolledBack.output());
        assertTrue(rolledBack.output().contains("before the checkpoint saved earlier"), rolledBack.output());
    }

    @Test
    void everyIndexColumnIsComparedWithTheBody() {
        String t = tenant();
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.REDACTED)
                .verdicts(new Verdict("r1", "pii.email", Verdict.Action.REDACT, Verdict.Direction.INPUT, 6, 24, 0.9)));
        signer.checkpointAll();
        assertTrue(verify(t).getBoolean("ok"), verify(t).prettify());
        Object[][] edits = {{"subject", "'mallory'"}, {"model", "'other'"}, {"region", "'us'"}, {"decision", "'deny'"},
            {"state", "'refused'"}, {"http_status", "404"}, {"tags", "'|'"}};
        for (Object[] edit : edits) {
            AuditEntry fin = entries(t).get(1);
            sql("UPDATE audit_entry SET " + edit[0] + " = " + edit[1] + " WHERE chain_id = ? AND seq = 2", t);
            JsonPath r = verify(t);
            assertEquals(2, r.getInt("chains[0].firstBadSeq"), edit[0] + ": " + r.prettify());
            assertTrue(r.getString("chains[0].problem").contains("(" + edit[0] + ")"), r.getString("chains[0].problem"));
            sql("UPDATE audit_entry SET subject = ?, model = ?, region = ?, decision = ?, state = ?, http_status = ?, tags = ?"
                    + " WHERE chain_id = ? AND seq = 2", fin.subject, fin.model, fin.region, fin.decision, fin.state,
                    fin.httpStatus, fin.tags, t);
        }
        assertTrue(verify(t).getBoolean("ok"));
    }

    @Test
    void bodyOrContentRemovedBeforeItsRetentionExpiredIsNamed() {
        String t = seeded(2);
        sql("UPDATE audit_entry SET body = NULL, content = NULL, subject = NULL, model = NULL, region = NULL, tags = '|'"
                + " WHERE chain_id = ? AND seq = 2", t);
        JsonPath body = verify(t);
        assertEquals(2, body.getInt("chains[0].firstBadSeq"));
        assertTrue(body.getString("chains[0].problem").contains("before its metadata retention expired"));

        String u = seeded(2);
        sql("UPDATE audit_entry SET content = NULL WHERE chain_id = ? AND seq = 3", u);
        JsonPath content = verify(u);
        assertEquals(3, content.getInt("chains[0].firstBadSeq"));
        assertTrue(content.getString("chains[0].problem").contains("content removed before its retention expired"));
    }

    @Test
    void checkpointsSignedBeforeAKeyRotationStayVerifiable() throws Exception {
        String t = tenant();
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        // The old key (configured as a previous public key) signed this head before the rotation.
        byte[] oldSeed = new byte[32];
        java.util.Arrays.fill(oldSeed, (byte) 7);
        var oldSigner = new CheckpointSigner(em, new SigningKeys(oldSeed, List.of()), new CheckpointWitness(
                Scratch.file("old-witness", ".jsonl"), java.util.Optional.empty(), java.time.Duration.ofSeconds(1), null), null);
        AuditEntry head = entries(t).getLast();
        assertTrue(oldSigner.signAt(t, head.seq, head.entryHash).isPresent());
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED));
        signer.checkpointAll();
        JsonPath r = verify(t);
        assertTrue(r.getBoolean("ok"), r.prettify());
        assertEquals(2, r.getInt("chains[0].checkpointsVerified"));
        Path export = export(t);
        String oldKey = oldSigner.publicKeyHex();
        assertTrue(signer.publicKeys().containsValue(oldKey));
        Verified both = offline(export, "--pubkey", signer.publicKeyHex(), "--pubkey", oldKey);
        assertEquals(0, both.exit(), both.output());
        Verified currentOnly = offline(export, "--pubkey", signer.publicKeyHex());
        assertEquals(1, currentOnly.exit(), currentOnly.output());
        assertTrue(currentOnly.output().contains("first bad seq 2: checkpoint signature does not verify"), currentOnly.output());
    }

    // --- client input bounded before it touches shared state

    @Test
    void anEntryTheStoreRefusesFailsAloneAndNeverItsBatch() throws Exception {
        String t = tenant();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // Wider than the model column (VARCHAR(200)): the database refuses this entry.
        Draft oversized = new Draft(t, "admin", null, now, t, "x", "m".repeat(300), null, "none",
                "complete", null, "|", "{\"kind\":\"admin\"}", null, Recorder.NONE, null, now);
        List<java.util.concurrent.CompletableFuture<Appended>> good = new ArrayList<>();
        java.util.concurrent.CompletableFuture<Appended> bad;
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<java.util.concurrent.Future<?>>();
            for (int i = 0; i < 20; i++) {
                futures.add(pool.submit(() -> Traffic.run(audit, Traffic.Scenario.of(t, Recorder.REDACTED))));
            }
            bad = writer.append(oversized);
            for (int i = 0; i < 20; i++) {
                good.add(writer.append(recorder.admin(t, "test", "probe-" + i, Map.of())));
            }
            for (var f : futures) {
                f.get();
            }
        }
        for (var f : good) {
            assertNotNull(f.get(10, java.util.concurrent.TimeUnit.SECONDS));
        }
        assertTrue(bad.isCompletedExceptionally(), "the oversized entry must fail");
        assertEquals(60, entries(t).size(), "every request (2 entries each) and every admin entry recorded");
        assertTrue(writer.healthy());
        signer.checkpointAll();
        assertTrue(verify(t).getBoolean("ok"), verify(t).prettify());
    }

    @Test
    void nulAndUnpairedSurrogatesAreStoredSafelyAndStillVerify() throws Exception {
        String t = tenant();
        var s = new Traffic.Scenario(t, "al\u0000ice\ud800", Recorder.REDACTED, true, List.of(), "hello \u0000 \udc00 world",
                "hello \u0000 \ud800", List.of("Hi \u0000", "\ud83d", " there"), false);
        var run = Traffic.run(audit, s);
        assertTrue(run.sink().ended, "served and recorded");
        List<AuditEntry> recorded = byRequest(run.exchange().requestId());
        assertEquals(2, recorded.size());
        assertEquals("al\uFFFDice\uFFFD", recorded.getFirst().subject);
        assertFalse(recorded.get(1).content.contains("\u0000"));
        signer.checkpointAll();
        assertTrue(verify(t).getBoolean("ok"), verify(t).prettify());
        Verified offline = offline(export(t));
        assertEquals(0, offline.exit(), offline.output());
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
    void aLongAnswerIsStoredDeflatedAndEncryptedAndReadsBackWhole() throws Exception {
        String t = tenant();
        String answer = AuditStoreBench.COMPLETION;
        var run = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED)
                .answering(answer.substring(0, 700), answer.substring(700)));
        AuditEntry fin = byRequest(run.exchange().requestId()).getLast();
        assertTrue(fin.body.contains("\"encoding\":\"deflate\""), fin.body);
        // base64 of nonce, ciphertext and tag: shorter than the answer itself, so it was deflated first.
        assertTrue(fin.content.length() < answer.length(), fin.content.length() + " stored for " + answer.length());
        JsonPath detail = given().header("Authorization", officer(t)).get("/audit/records/" + fin.id)
                .then().statusCode(200).extract().jsonPath();
        assertEquals(answer, detail.getString("entries[1].content.text"));
        assertTrue(verify(t).getBoolean("ok"), verify(t).prettify());
        Verified offline = offline(export(t));
        assertEquals(0, offline.exit(), offline.output());
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
        // Recorded before the keys were destroyed, and its completion after.
        var actions = entries(t).stream().filter(e -> "admin".equals(e.kind)).map(e -> e.body).toList();
        int started = indexOf(actions, "\"action\":\"erasure_started\"");
        int completed = indexOf(actions, "\"action\":\"erasure_completed\"");
        assertTrue(started >= 0 && completed > started, actions.toString());
        assertTrue(verify(t).getBoolean("ok"));
    }

    private static int indexOf(List<String> bodies, String fragment) {
        for (int i = 0; i < bodies.size(); i++) {
            if (bodies.get(i).contains(fragment)) {
                return i;
            }
        }
        return -1;
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
        // Content is kept 30 days and metadata 365 by the scenario's policy: let 400 days pass.
        Instant past = Instant.now().minus(1, ChronoUnit.SECONDS);
        for (String t : List.of(held, free)) {
            sql("UPDATE audit_entry SET content_expires_at = ?, metadata_expires_at = ? WHERE chain_id = ? AND kind <> 'admin'",
                    past, past, t);
        }
        retention.purge(Instant.now());
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

    // --- usage: the aggregate kept from the final records (io.cleargate.usage)

    @Inject io.cleargate.usage.UsageLedger ledger;

    static final io.cleargate.policy.PolicyDecision.Price PRICE =
            new io.cleargate.policy.PolicyDecision.Price("USD", 0.10, 0.20);

    static java.time.YearMonth thisMonth() {
        return java.time.YearMonth.now(java.time.ZoneOffset.UTC);
    }

    /** key/model → [requests, estimated, prompt, completion, cost nanos] of the tenant's aggregate this month. */
    Map<String, List<Long>> aggregate(String t) {
        Map<String, List<Long>> out = new java.util.TreeMap<>();
        for (var r : ledger.rows(t, thisMonth())) {
            out.put(r.id.subject + "/" + r.id.model, List.of(r.requests, r.estimatedRequests, r.promptTokens,
                    r.completionTokens, r.costNanos));
        }
        return out;
    }

    @Test
    void everyFinalRecordIsAddedToItsKeysMonthWithItsCostWhenItCommits() {
        String t = tenant();
        for (int i = 0; i < 3; i++) {
            Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).priced(PRICE));
        }
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.HASH_ONLY).subject("bob").priced(PRICE));
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).subject("carol"));
        // The mock engine reports 5 prompt and 2 completion tokens: 5 x 0.10 + 2 x 0.20 per million = 900 nano-dollars.
        assertEquals(Map.of("alice/mock", List.of(3L, 0L, 15L, 6L, 2700L), "bob/mock", List.of(1L, 0L, 5L, 2L, 900L),
                "carol/mock", List.of(1L, 0L, 5L, 2L, 0L)), aggregate(t), "an unpriced model costs nothing");
        var spent = ledger.monthToDate(t, "alice", thisMonth());
        assertEquals(35, spent.tenant().tokens());
        assertEquals(21, spent.key().tokens());
        assertEquals(3600e-9, spent.tenant().cost(), 1e-12);
        AuditEntry fin = entries(t).get(1);
        assertEquals(Map.of("prompt_tokens", 5, "completion_tokens", 2, "estimated", false, "cost_nanos", 900,
                "currency", "USD"), Canonical.parse(fin.body).get("usage"), "the record itself states the charge");
    }

    @Test
    void answersThatEndWithoutTheEnginesUsageAreChargedOnAnEstimateAndRefusalsChargeNothing() {
        String t = tenant();
        // The content filter stops the answer at its first piece ("Hi "): the engine never reports usage.
        var blocked = Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).priced(PRICE)
                .answering("Hi ", "there, a long answer that never reaches the client").blockedAfterFirstDelta());
        assertEquals("content_filter", blocked.sink().chunks.getLast().finishReason());
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).subject("bob").priced(PRICE).failingMidStream());
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).subject("carol").priced(PRICE).denied());
        // Prompt "hello [EMAIL]" as sent to the engine: 13 characters, (13 + 3) / 4 + 4 = 8 tokens.
        // Blocked: "Hi " was produced, 1 token. Broken: "Hi there" was produced, 2 tokens.
        assertEquals(Map.of("alice/mock", List.of(1L, 1L, 8L, 1L, 1000L), "bob/mock", List.of(1L, 1L, 8L, 2L, 1200L)),
                aggregate(t), "the denied request charges nothing");
        var fin = byRequest(blocked.exchange().requestId()).getLast();
        assertEquals(Boolean.TRUE, ((Map<?, ?>) Canonical.parse(fin.body).get("usage")).get("estimated"));
    }

    @Test
    void theAggregateRebuiltFromTheTrailIsTheOneKeptAtCommit() {
        String t = tenant();
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).priced(PRICE));
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.REDACTED).subject("bob").priced(PRICE).failingMidStream());
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.HASH_ONLY).subject("bob").priced(PRICE)
                .blockedAfterFirstDelta());
        adminEvents.record(t, "pat", "policy_change", Map.of());
        var kept = aggregate(t);
        assertEquals(2, kept.size());
        sql("UPDATE usage_month SET prompt_tokens = 999999, cost_nanos = 1 WHERE tenant = ?", t);
        sql("DELETE FROM usage_month WHERE tenant = ? AND subject = 'bob'", t);
        assertEquals(3, ledger.rebuild(t));
        assertEquals(kept, aggregate(t));
    }

    @Test
    void usageIsReadByTheTenantsGatewayAdminAndTheAuditorOnly() {
        String t = tenant();
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).priced(PRICE));
        Traffic.run(audit, Traffic.Scenario.of(t, Recorder.ENCRYPTED).subject("bob").priced(PRICE));
        String admin = TestCredentials.bearer(Roles.GATEWAY_ADMIN, t, "admin-" + t);
        JsonPath usage = given().header("Authorization", admin).get("/admin/usage").then().statusCode(200)
                .extract().jsonPath();
        assertEquals(t, usage.getString("tenant"));
        assertEquals(thisMonth().toString(), usage.getString("month"));
        assertEquals(2, usage.getInt("total.requests"));
        assertEquals(14, usage.getInt("total.total_tokens"));
        assertEquals("0.0000018", usage.getString("total.cost"));
        assertEquals("USD", usage.getString("total.currency"));
        assertEquals(List.of("alice", "bob"), usage.getList("by_key.key"));
        assertEquals(List.of("mock"), usage.getList("by_model.model"));
        given().header("Authorization", auditor()).queryParam("tenant", t).get("/admin/usage").then().statusCode(200);

        String other = TestCredentials.bearer(Roles.GATEWAY_ADMIN, tenant(), "other-admin");
        given().header("Authorization", other).queryParam("tenant", t).get("/admin/usage").then().statusCode(403);
        given().header("Authorization", officer(t)).get("/admin/usage").then().statusCode(403);
        given().get("/admin/usage").then().statusCode(401);
        given().header("Authorization", admin).queryParam("month", "November").get("/admin/usage").then()
                .statusCode(400);
        given().header("Authorization", admin).post("/admin/usage/rebuild").then().statusCode(200);
        given().header("Authorization", auditor()).queryParam("tenant", t).post("/admin/usage/rebuild").then()
                .statusCode(403);
    }
}
