package io.cleargate.policy;

import static io.cleargate.policy.PipelineHarness.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.cleargate.domain.EngineEvent;
import io.cleargate.testsupport.OpaServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The policy stage in the real pipeline, deciding with a real OPA process. */
class PolicyStageIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT_MODEL = "deepseek-moe-16b-chat";

    static PolicyStage stage(String url, String token, Duration timeout, Duration cacheTtl) {
        var client = new OpaClient(url, "cleargate/decision", token, timeout, JSON);
        var decisions = new PolicyDecisions(client, new DecisionCache(cacheTtl.toNanos(), 1000, System::nanoTime), JSON);
        return new PolicyStage(decisions, TenantLimits.perReplica(), NOTHING_SPENT);
    }

    /** A ledger in which nobody has used anything yet. */
    static final Spending NOTHING_SPENT = (tenant, subject, month) ->
            new Spending.MonthToDate(month, new Spending.Spent(0, 0), new Spending.Spent(0, 0));

    static PipelineHarness harness(OpaServer opa) {
        return new PipelineHarness(stage(opa.url(), opa.gatewayToken(), Duration.ofMillis(500), Duration.ZERO));
    }

    @Test
    void allowedRequestReachesTheEngineWithTheDecisionRecorded() {
        var opa = OpaServer.shared();
        var h = harness(opa);
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100);
        assertEquals(200, out.status());
        assertEquals(1, h.dispatcher.opened.size());
        PolicyDecision d = out.decision();
        assertTrue(d.allow());
        assertEquals(List.of("eu-west", "eu-central"), d.regions());
        assertEquals("strict", d.moderation().profile());
        assertEquals("redacted", d.audit().contentMode());
        assertEquals(600, d.limits().requestsPerMinute());
        assertNotNull(d.decisionId(), "OPA's decision id is recorded (console decision logging is on)");
        assertEquals(opa.revision(), d.bundleRevision());
        assertEquals("acme-eu", d.input().get("tenant"));
        assertFalse(JSON.valueToTree(d.input()).toString().contains("capital of France"),
                "the policy input never holds prompt text");
    }

    @Test
    void requestWithoutTheGatewayUserRoleIsRefusedWith403ListingTheReason() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("acme-eu", "policy-admin"), CHAT_MODEL, 100, 100);
        assertEquals(403, out.status());
        assertEquals("policy_denied", out.sink().error.code());
        assertEquals(List.of("missing_role"), out.reasonCodes());
        assertTrue(h.dispatcher.opened.isEmpty(), "a denied request never reaches the engine");
        assertFalse(out.decision().allow());
    }

    @Test
    void aModelOutsideTheTenantsAllowListIsNotFoundExactlyLikeAMissingOne() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("globex-us", "gateway-user"), "deepseek-v2-lite-chat", 100, 100);
        assertEquals(404, out.status());
        assertEquals(io.cleargate.pipeline.GatewayError.modelNotFound("deepseek-v2-lite-chat"), out.sink().error,
                "the same answer as for a model that does not exist");
        assertEquals(List.of("model_not_allowed"),
                out.decision().reasons().stream().map(PolicyDecision.Reason::code).toList(), "the audit keeps why");
        assertTrue(h.dispatcher.opened.isEmpty());
    }

    @Test
    void aModelDenialWithAnotherReasonStillListsTheReasons() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("globex-us", "policy-admin"), "deepseek-v2-lite-chat", 100, 100);
        assertEquals(403, out.status());
        assertEquals(java.util.Set.of("missing_role", "model_not_allowed"), java.util.Set.copyOf(out.reasonCodes()));
    }

    @Test
    void aToolOutsideTheTenantsListIsRefusedNamingItAndTheInputCarriesOnlyToolNames() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100,
                Map.of("tools", List.of("get_weather", "run_shell")));
        assertEquals(403, out.status());
        assertEquals(List.of("tool_not_allowed"), out.reasonCodes());
        assertTrue(out.sink().error.message().contains("run_shell"));
        assertFalse(out.sink().error.message().contains("get_weather"), "only the refused tool is named");
        assertTrue(h.dispatcher.opened.isEmpty(), "a denied request never reaches the engine");
        assertEquals(List.of("get_weather", "run_shell"), ((Map<?, ?>) out.decision().input().get("request")).get("tools"));
    }

    @Test
    void listedToolsAndToolsCalledEarlierArePassedForATenantThatAllowsThem() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100,
                Map.of("tools", List.of("get_weather"), "tool_calls", List.of("search_documents")));
        assertEquals(200, out.status());
        var denied = h.chat(user("globex-us", "gateway-user"), CHAT_MODEL, 100, 100,
                Map.of("tool_calls", List.of("get_weather")));
        assertEquals(List.of("tool_not_allowed"), denied.reasonCodes(),
                "a tenant without a tools list may not continue a conversation that called one");
    }

    @Test
    void unknownTenantIsRefusedWithItsReason() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("initech", "gateway-user"), CHAT_MODEL, 100, 100);
        assertEquals(403, out.status());
        assertEquals(List.of("unknown_tenant"), out.reasonCodes());
        assertEquals("hash-only", out.decision().audit().contentMode());
    }

    @Test
    void oversizedMaxTokensIsClampedForATenantThatClamps() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100_000, 100_000);
        assertEquals(200, out.status());
        assertEquals(2048, h.dispatcher.opened.getFirst().maxTokens());
    }

    @Test
    void oversizedMaxTokensIsRejectedForATenantThatRejects() {
        var h = harness(OpaServer.shared());
        var out = h.chat(user("globex-us", "gateway-user"), CHAT_MODEL, 5000, 5000);
        assertEquals(403, out.status());
        assertEquals(List.of("max_tokens_exceeded"), out.reasonCodes());
        assertTrue(h.dispatcher.opened.isEmpty());
    }

    @Test
    void tenantOverItsRequestsPerMinuteGets429WithRetryAfter() throws Exception {
        try (var opa = OpaServer.start(Map.of("cleargate/tenants/tiny/data.json", tenantLike("dev", 2, 100_000)))) {
            var h = harness(opa);
            assertEquals(200, h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 10, 10).status());
            assertEquals(200, h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 10, 10).status());
            var third = h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 10, 10);
            assertEquals(429, third.status());
            assertEquals("rate_limit_exceeded", third.sink().error.code());
            long retryAfter = Long.parseLong(third.sink().error.headers().get("Retry-After"));
            assertTrue(retryAfter >= 1 && retryAfter <= 30, "a request comes back within half a minute at 2/min");
            assertEquals(2, h.dispatcher.opened.size());
            // other tenants are not affected
            assertEquals(200, h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10).status());
        }
    }

    @Test
    void tenantOverItsTokensPerMinuteGets429WithRetryAfter() throws Exception {
        try (var opa = OpaServer.start(Map.of("cleargate/tenants/tiny/data.json", tenantLike("dev", 100, 600)))) {
            var h = harness(opa);
            h.dispatcher.usage = new EngineEvent.Usage(10, 500);
            assertEquals(200, h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 500, 500).status());
            var second = h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 500, 500);
            assertEquals(429, second.status());
            assertEquals("tokens_per_minute", second.sink().error.details().get("limit"));
            assertTrue(Long.parseLong(second.sink().error.headers().get("Retry-After")) >= 30);
        }
    }

    /** Finding 9: an answer that reports no usage (client gone, output blocked) is charged, not refunded. */
    @Test
    void anAnswerWithoutUsageIsChargedForWhatItStreamedNotRefundedWholesale() throws Exception {
        try (var opa = OpaServer.start(Map.of("cleargate/tenants/tiny/data.json", tenantLike("dev", 100, 600)))) {
            var h = harness(opa);
            h.dispatcher.usage = null;
            h.dispatcher.reply = "word ".repeat(320); // 1,600 characters: about 400 tokens
            assertEquals(200, h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 450, 450).status());
            // With the reservation refunded the bucket would be full again and this would pass.
            var second = h.chat(user("tiny", "gateway-user"), CHAT_MODEL, 450, 450);
            assertEquals(429, second.status(), () -> "not charged: " + second.sink().error);
            assertEquals("tokens_per_minute", second.sink().error.details().get("limit"));
        }
    }

    @Test
    void stoppedOpaRefusesEveryRequestWith503() {
        var opa = OpaServer.start(Map.of());
        var h = harness(opa);
        assertEquals(200, h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10).status());
        opa.close();
        var out = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
        assertEquals(503, out.status());
        assertEquals("policy_unavailable", out.sink().error.code());
        assertEquals(1, h.dispatcher.opened.size());
    }

    @Test
    void undefinedDecisionIsRefused() {
        try (var opa = OpaServer.start(Map.of("cleargate/decision/decision.rego", "package cleargate.other\n\nx := 1\n",
                "cleargate/decision/decision_test.rego", "package cleargate.other_test\n"))) {
            var h = harness(opa);
            var out = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
            assertEquals(503, out.status());
            assertEquals("policy_undefined", out.sink().error.code());
            assertTrue(h.dispatcher.opened.isEmpty());
        }
    }

    @Test
    void malformedDecisionIsRefused() {
        try (var opa = OpaServer.start(Map.of("cleargate/decision/decision.rego",
                "package cleargate.decision\n\nallow := \"yes\"\n"))) {
            var h = harness(opa);
            var out = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
            assertEquals(503, out.status());
            assertEquals("policy_malformed", out.sink().error.code());
            assertTrue(h.dispatcher.opened.isEmpty());
        }
    }

    @Test
    void slowPolicyServiceIsCutOffAtTheTimeoutAndRefused() throws Exception {
        // The one fake: OPA cannot be made slow on demand, so a loopback server that never answers in time.
        HttpServer slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        slow.createContext("/", exchange -> {
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        slow.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        slow.start();
        try {
            var h = new PipelineHarness(stage("http://127.0.0.1:" + slow.getAddress().getPort(), "t",
                    Duration.ofMillis(300), Duration.ZERO));
            long start = System.nanoTime();
            var out = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(503, out.status());
            assertEquals("policy_unavailable", out.sink().error.code());
            assertTrue(millis < 1500, "refused after the timeout, not after the slow answer: " + millis + " ms");
        } finally {
            slow.stop(0);
        }
    }

    @Test
    void wrongTokenMakesOpaRefuseAndTheGatewayFailClosed() {
        var opa = OpaServer.shared();
        var h = new PipelineHarness(stage(opa.url(), "not-the-gateway-token", Duration.ofMillis(500), Duration.ZERO));
        var out = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
        assertEquals(503, out.status());
        assertEquals("policy_unavailable", out.sink().error.code());
    }

    @Test
    void opaApiAnswersOnlyTheRightTokenForEachOperation() throws Exception {
        var opa = OpaServer.shared();
        String decision = opa.url() + "/v1/data/cleargate/decision";
        String body = "{\"input\":{\"tenant\":\"dev\"}}";
        assertEquals(401, call("POST", decision, null, body));
        assertEquals(401, call("POST", decision, "guess", body));
        assertEquals(401, call("POST", decision, opa.adminToken(), body), "administration does not query decisions");
        assertEquals(200, call("POST", decision, opa.gatewayToken(), body));
        assertEquals(401, call("GET", opa.url() + "/v1/policies", opa.gatewayToken(), null));
        assertEquals(401, call("PUT", opa.url() + "/v1/data/cleargate/tenants", opa.gatewayToken(), "{}"),
                "the gateway token cannot write");
        assertEquals(401, call("GET", opa.url() + "/v1/data/system/credentials", opa.adminToken(), null));
        assertEquals(401, call("PUT", opa.url() + "/v1/data/system/credentials", opa.adminToken(), "{}"));
        assertEquals(200, call("GET", opa.url() + "/v1/policies", opa.adminToken(), null));
    }

    @Test
    void identicalRequestsShareACachedDecisionUntilThePolicyChanges() {
        var opa = OpaServer.shared();
        var client = new OpaClient(opa.url(), "cleargate/decision", opa.gatewayToken(), Duration.ofMillis(500), JSON);
        var decisions = new PolicyDecisions(client, new DecisionCache(Duration.ofMinutes(1).toNanos(), 100,
                System::nanoTime), JSON);
        var h = new PipelineHarness(new PolicyStage(decisions, TenantLimits.perReplica(), NOTHING_SPENT));
        var first = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
        var second = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
        assertFalse(first.exchange().require(PolicyStage.DECISION_CACHED));
        // same input unless the clock crossed a second boundary between the two requests
        if (first.decision().input().equals(second.decision().input())) {
            assertTrue(second.exchange().require(PolicyStage.DECISION_CACHED));
        }
        decisions.policyChanged();
        var third = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
        assertFalse(third.exchange().require(PolicyStage.DECISION_CACHED));
    }

    @Test
    void decisionRoundTripStaysFarInsideTheTimeout() {
        var opa = OpaServer.shared();
        var client = new OpaClient(opa.url(), "cleargate/decision", opa.gatewayToken(), Duration.ofMillis(500), JSON);
        var input = PolicyInput.of(user("acme-eu", "gateway-user"),
                new io.cleargate.pipeline.IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), CHAT_MODEL, false, Map.of()), null, java.time.Instant.now());
        for (int i = 0; i < 50; i++) {
            client.decide(input); // warm-up
        }
        int n = 300;
        long[] micros = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            assertTrue(client.decide(input).allow());
            micros[i] = (System.nanoTime() - t) / 1000;
        }
        java.util.Arrays.sort(micros);
        long p50 = micros[n / 2];
        long p99 = micros[n * 99 / 100];
        System.out.printf("OPA decision over loopback REST: p50 %d us, p99 %d us (n=%d)%n", p50, p99, n);
        assertTrue(p99 < 250_000, "p99 " + p99 + " us leaves no margin under the 500 ms timeout");
    }

    @Test
    void aDecisionIsAskedOnTheCallingThreadWithoutTheJdkClientsThreads() throws Exception {
        // The question is a write and a read on the asking (virtual) thread: no selector or worker
        // threads of the JDK's HTTP client wake on the core that serves the streams.
        var opa = OpaServer.shared();
        var before = httpClientThreads();
        var client = new OpaClient(opa.url(), "cleargate/decision", opa.gatewayToken(), Duration.ofMillis(500), JSON);
        var input = PolicyInput.of(user("dev", "gateway-user"),
                new io.cleargate.pipeline.IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), CHAT_MODEL, false,
                        Map.of()), null, java.time.Instant.now());
        var asker = Thread.ofVirtual().start(() -> assertTrue(client.decide(input).allow()));
        asker.join();
        assertTrue(client.decide(input).allow());
        var started = httpClientThreads();
        started.removeAll(before);
        assertEquals(List.of(), List.copyOf(started));
    }

    private static java.util.Set<String> httpClientThreads() {
        var names = new java.util.TreeSet<String>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("HttpClient-")) {
                names.add(t.getName() + "#" + t.threadId());
            }
        }
        return names;
    }

    @Test
    void anAnswerLargerThanAnyDecisionIsRefusedWithoutReadingItAll() throws Exception {
        // The one fake: OPA cannot be made to answer megabytes, so a loopback server that does.
        HttpServer huge = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        huge.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] filler = new byte[64 * 1024];
            java.util.Arrays.fill(filler, (byte) ' ');
            exchange.sendResponseHeaders(200, 0);
            try (var out = exchange.getResponseBody()) {
                out.write("{\"result\": {\"allow\": true}, \"padding\": \"".getBytes());
                for (int i = 0; i < 64; i++) {
                    out.write(filler);
                }
                out.write("\"}".getBytes());
            } catch (java.io.IOException e) {
                // the client stopped reading: expected
            }
        });
        huge.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        huge.start();
        try {
            var h = new PipelineHarness(stage("http://127.0.0.1:" + huge.getAddress().getPort(), "t",
                    Duration.ofSeconds(2), Duration.ZERO));
            var out = h.chat(user("dev", "gateway-user"), CHAT_MODEL, 10, 10);
            assertEquals(503, out.status());
            assertEquals("policy_malformed", out.sink().error.code());
            assertTrue(h.dispatcher.opened.isEmpty());
        } finally {
            huge.stop(0);
        }
    }

    private static int call(String method, String url, String token, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** The settings of tenant {@code model} with other request and token limits (each tenant has its own data.json). */
    private static String tenantLike(String model, int rpm, int tpm) throws Exception {
        var t = (ObjectNode) JSON.readTree(Files.readString(OpaServer.repoRoot()
                .resolve("policies/cleargate/tenants/" + model + "/data.json")));
        ((ObjectNode) t.get("limits")).put("requests_per_minute", rpm).put("tokens_per_minute", tpm);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(t);
    }

    // --- budgets (the tenant acme-eu ships with three: eu-monthly-tokens, eu-monthly-spend, per-key-tokens)

    static PipelineHarness budgeted(OpaServer opa, Spending spending, Duration cacheTtl) {
        var client = new OpaClient(opa.url(), "cleargate/decision", opa.gatewayToken(), Duration.ofMillis(500), JSON);
        var decisions = new PolicyDecisions(client, new DecisionCache(cacheTtl.toNanos(), 1000, System::nanoTime), JSON);
        return new PipelineHarness(new PolicyStage(decisions, TenantLimits.perReplica(), spending));
    }

    @Test
    void aBudgetedTenantIsDecidedOnItsMonthToDateUsageFromItsFirstRequest() {
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        Spending ledger = (tenant, subject, month) -> {
            asked.add(tenant + "/" + subject + "/" + month);
            return new Spending.MonthToDate(month, new Spending.Spent(1200, 0.5), new Spending.Spent(300, 0.1));
        };
        var h = budgeted(OpaServer.shared(), ledger, Duration.ZERO);
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100);
        assertEquals(200, out.status());
        Map<?, ?> usage = (Map<?, ?>) out.decision().input().get("usage");
        assertNotNull(usage, "the decision that admitted the request saw the usage");
        assertEquals(1200L, ((Map<?, ?>) usage.get("tenant")).get("tokens"));
        assertEquals(300L, ((Map<?, ?>) usage.get("key")).get("tokens"));
        assertEquals(List.of("eu-monthly-tokens", "eu-monthly-spend", "per-key-tokens"), out.decision().budgetNames());
        assertEquals(2, asked.size(), "read for the decision, and again once the request is held against the budgets");
        assertTrue(asked.stream().allMatch(a -> a.startsWith("acme-eu/")), asked.toString());
        var price = out.decision().price();
        assertEquals(new PolicyDecision.Price("USD", 0.10, 0.20), price);

        var unbudgeted = h.chat(user("globex-us", "gateway-user"), CHAT_MODEL, 100, 100);
        assertEquals(200, unbudgeted.status());
        assertFalse(unbudgeted.decision().input().containsKey("usage"), "a tenant without budgets sends no usage");
        assertEquals(2, asked.size(), "and its usage is never read");
    }

    @Test
    void aUsedUpBudgetIs429BudgetExceededNamingTheBudgetUntilTheNextMonth() {
        Spending spent = (tenant, subject, month) ->
                new Spending.MonthToDate(month, new Spending.Spent(10, 0.01), new Spending.Spent(50_000_000, 0.01));
        var h = budgeted(OpaServer.shared(), spent, Duration.ZERO);
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100);
        assertEquals(429, out.status(), String.valueOf(out.sink().error));
        var error = out.sink().error;
        assertEquals("budget_exceeded", error.code());
        assertEquals("insufficient_quota", error.type());
        assertTrue(error.message().contains("'per-key-tokens'"), error.message());
        long retryAfter = Long.parseLong(error.headers().get("Retry-After"));
        var now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
        long toNextMonth = java.time.Duration.between(now, now.withDayOfMonth(1).toLocalDate().plusMonths(1)
                .atStartOfDay(java.time.ZoneOffset.UTC)).toSeconds();
        assertTrue(Math.abs(retryAfter - toNextMonth) < 60, retryAfter + " vs " + toNextMonth);
        assertTrue(h.dispatcher.opened.isEmpty(), "an over-budget request never reaches the engine");
        assertEquals(List.of("budget_exceeded"), out.reasonCodes());
    }

    @Test
    void aBudgetAndAnotherReasonTogetherAre403ListingBoth() {
        Spending spent = (tenant, subject, month) ->
                new Spending.MonthToDate(month, new Spending.Spent(600_000_000, 0), new Spending.Spent(0, 0));
        var h = budgeted(OpaServer.shared(), spent, Duration.ZERO);
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100, Map.of("tools", List.of("run_shell")));
        assertEquals(403, out.status());
        assertEquals(java.util.Set.of("budget_exceeded", "tool_not_allowed"), java.util.Set.copyOf(out.reasonCodes()));
    }

    @Test
    void anUnreadableLedgerRefusesABudgetedTenantWith503() {
        Spending broken = (tenant, subject, month) -> {
            throw new io.cleargate.pipeline.GatewayException(io.cleargate.pipeline.GatewayError.unavailable(
                    "usage_unavailable", "ledger down"));
        };
        var h = budgeted(OpaServer.shared(), broken, Duration.ZERO);
        var out = h.chat(user("acme-eu", "gateway-user"), CHAT_MODEL, 100, 100);
        assertEquals(503, out.status());
        assertEquals("usage_unavailable", out.sink().error.code());
        assertTrue(h.dispatcher.opened.isEmpty());
        assertEquals(200, h.chat(user("globex-us", "gateway-user"), CHAT_MODEL, 100, 100).status(),
                "tenants without budgets do not need the ledger");
    }
}
