package io.cleargate.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.KeycloakServer;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.PackagedGateway;
import io.cleargate.testsupport.Scratch;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Attacks on the packaged gateway (its own process, real Keycloak, real OPA, H2 in a data
 * directory; only the model servers are mocks), one per trust boundary of issue #12. Users come
 * from the demonstration realm: for every role one user of tenant acme-eu, and the two platform
 * users. "Own" is acme-eu, "other" is globex-us. The last test restarts the gateway on the same
 * database without the development setting and without an identity provider.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrustBoundariesIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OWN = "acme-eu";
    private static final String OTHER = "globex-us";
    private static final String MODEL = "deepseek-moe-16b-chat";
    private static final String DEV_KEY = "cg_0b1c2d3e_" + "7f".repeat(32);

    /** The realm user holding each role (tenant acme-eu; the platform users too). */
    private static final Map<String, String> USER_OF_ROLE = orderedMap(
            "gateway-user", "acme-eu-user",
            "policy-admin", "acme-eu-policy-admin",
            "compliance-officer", "acme-eu-compliance",
            "gateway-admin", "acme-eu-admin",
            "auditor", "acme-eu-auditor",
            "platform-admin", "platform-admin",
            "data-protection-officer", "platform-dpo");

    private KeycloakServer keycloak;
    private OpaServer opa;
    private final Map<String, MockUpstream> backends = new LinkedHashMap<>();
    private Path data;
    private PackagedGateway gateway;
    private final Map<String, String[]> tokens = new ConcurrentHashMap<>();

    @BeforeAll
    void startTheGatewayAsDeployed() throws Exception {
        keycloak = KeycloakServer.get();
        opa = OpaServer.start(Map.of());
        data = Scratch.dir("cleargate-trust-");
        Map<String, String> props = new LinkedHashMap<>(PackagedGateway.governed(opa));
        props.put("quarkus.oidc.auth-server-url", keycloak.issuer());
        // eu1 is the EU tenant's backend; "rogue" sits in an EU region but under US jurisdiction.
        backend(props, "eu1", "eu-west", "EU");
        backend(props, "rogue", "eu-central", "US");
        backend(props, "us1", "us-east", "US");
        props.put("cleargate.audit.hmac-lookups-per-minute", "20");
        props.put("cleargate.dev.create-key", "true");
        props.put("cleargate.dev.key", DEV_KEY);
        gateway = PackagedGateway.start(data, props, Map.of());
    }

    private void backend(Map<String, String> props, String id, String region, String jurisdiction) throws Exception {
        MockUpstream mock = new MockUpstream(id, 0, 4, 0);
        backends.put(id, mock);
        props.put("cleargate.backends." + id + ".kind", "openai");
        props.put("cleargate.backends." + id + ".base-url", mock.baseUrl());
        props.put("cleargate.backends." + id + ".models", MODEL);
        props.put("cleargate.backends." + id + ".region", region);
        props.put("cleargate.backends." + id + ".jurisdiction", jurisdiction);
    }

    @AfterAll
    void stopEverything() {
        if (gateway != null) {
            gateway.close();
        }
        backends.values().forEach(MockUpstream::close);
        if (opa != null) {
            opa.close();
        }
    }

    // --- finding 1 and 6: every role x every admin endpoint x own and other tenant

    /** One admin endpoint, the roles it admits for the caller's own tenant and for another tenant. */
    record Endpoint(String name, String method, Function<String, String> path, Function<String, String> body,
            Set<String> ownRoles, Set<String> otherRoles, boolean tenantScoped) {}

    private List<Endpoint> endpoints() {
        Set<String> policy = Set.of("policy-admin", "platform-admin");
        Set<String> platformPolicy = Set.of("platform-admin");
        Set<String> readers = Set.of("compliance-officer", "auditor");
        Set<String> platformReaders = Set.of("auditor");
        Set<String> destroyers = Set.of("compliance-officer", "data-protection-officer");
        Set<String> platformDestroyers = Set.of("data-protection-officer");
        List<Endpoint> list = new ArrayList<>();
        list.add(new Endpoint("read tenant settings", "GET", t -> "/admin/policies/tenants/" + t, t -> null,
                policy, platformPolicy, true));
        list.add(new Endpoint("read tenant policy file", "GET",
                t -> "/admin/policies/files/cleargate/tenants/" + t + "/data.json", t -> null, policy, platformPolicy, true));
        list.add(new Endpoint("validate a tenant draft", "POST", t -> "/admin/policies/validate", this::unchangedDraft,
                policy, platformPolicy, true));
        list.add(new Endpoint("what-if over a tenant's requests", "POST", t -> "/admin/policies/what-if?n=5&tenant=" + t,
                this::unchangedDraft, policy, platformPolicy, true));
        // An unchanged draft: an admitted caller gets 422 "changes nothing", so the matrix changes nothing.
        list.add(new Endpoint("activate a tenant draft", "POST", t -> "/admin/policies/activate", this::unchangedDraft,
                policy, platformPolicy, true));
        list.add(new Endpoint("activate a global module", "POST", t -> "/admin/policies/activate",
                t -> draft("cleargate/decision/decision.rego", policyFile("cleargate/decision/decision.rego")),
                platformPolicy, platformPolicy, false));
        list.add(new Endpoint("policy history", "GET", t -> "/admin/policies/history", t -> null, policy, policy, false));
        list.add(new Endpoint("search the audit trail", "GET", t -> "/audit/records?limit=1&tenant=" + t, t -> null,
                readers, platformReaders, true));
        list.add(new Endpoint("export the audit trail", "GET", t -> "/audit/export?tenant=" + t, t -> null,
                readers, platformReaders, true));
        list.add(new Endpoint("summarise the audit trail", "GET", t -> "/audit/summary?tenant=" + t, t -> null,
                readers, platformReaders, true));
        list.add(new Endpoint("verify the audit trail", "GET", t -> "/audit/verify?tenant=" + t, t -> null,
                readers, platformReaders, true));
        list.add(new Endpoint("HMAC look-up", "POST", t -> "/audit/hmac",
                t -> "{\"tenant\":\"" + t + "\",\"value\":\"matrix\"}", readers, platformReaders, true));
        list.add(new Endpoint("erase a subject", "POST", t -> "/audit/erasure",
                t -> "{\"tenant\":\"" + t + "\",\"subject\":\"nobody-in-the-matrix\"}", destroyers, platformDestroyers, true));
        list.add(new Endpoint("release a legal hold", "DELETE", t -> "/audit/legal-holds/" + t, t -> null,
                destroyers, platformDestroyers, true));
        list.add(new Endpoint("list API keys", "GET", t -> "/admin/api-keys", t -> null,
                Set.of("gateway-admin"), Set.of("gateway-admin"), false));
        list.add(new Endpoint("read usage", "GET", t -> "/admin/usage?tenant=" + t, t -> null,
                Set.of("gateway-admin", "auditor"), Set.of("auditor"), true));
        list.add(new Endpoint("rebuild usage from the trail", "POST", t -> "/admin/usage/rebuild?tenant=" + t, t -> null,
                Set.of("gateway-admin", "platform-admin"), Set.of("platform-admin"), true));
        list.add(new Endpoint("explain moderation", "POST", t -> "/v1/moderation/explain",
                t -> "{\"text\":\"mail me at a@b.example\"}", Set.of("policy-admin"), Set.of("policy-admin"), false));
        // The model probe suite runs as the platform: only the platform's administrator starts it,
        // auditors read its reports; the published model report is for everybody signed in.
        list.add(new Endpoint("run the model probe suite", "POST", t -> "/admin/probes/run?backend=eu1", t -> null,
                platformPolicy, platformPolicy, false));
        list.add(new Endpoint("read the probe reports", "GET", t -> "/admin/probes/reports", t -> null,
                Set.of("platform-admin", "auditor"), Set.of("platform-admin", "auditor"), false));
        list.add(new Endpoint("read the published model report", "GET", t -> "/admin/probes/published", t -> null,
                USER_OF_ROLE.keySet(), USER_OF_ROLE.keySet(), false));
        return list;
    }

    @Test
    @Order(1)
    void everyRoleReachesEveryAdminEndpointOnlyForTheTenantsItsRoleCovers() {
        List<String> wrong = new ArrayList<>();
        int calls = 0;
        for (Endpoint e : endpoints()) {
            for (var role : USER_OF_ROLE.entrySet()) {
                for (String tenant : e.tenantScoped() ? List.of(OWN, OTHER) : List.of(OWN)) {
                    boolean admitted = (tenant.equals(OWN) ? e.ownRoles() : e.otherRoles()).contains(role.getKey());
                    HttpResponse<String> r = gateway.call(e.method(), e.path().apply(tenant), token(role.getValue()),
                            e.body().apply(tenant));
                    calls++;
                    int s = r.statusCode();
                    boolean refused = s == 403;
                    boolean served = (s >= 200 && s < 300) || (s == 422 && e.name().startsWith("activate"));
                    if (admitted ? !served : !refused) {
                        wrong.add(String.format("%s as %s on %s: %d %s", e.name(), role.getKey(), tenant, s,
                                abbreviate(r.body())));
                    }
                }
            }
        }
        System.out.printf("trust boundaries: %d calls in the role matrix%n", calls);
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + calls + " calls were decided wrongly:\n" + String.join("\n", wrong));
    }

    // --- finding 1: a tenant's policy admin governs only its tenant

    @Test
    @Order(2)
    void aTenantsPolicyAdminCannotReachAnotherTenantsOrTheGlobalPolicy() {
        String admin = token("acme-eu-policy-admin");
        for (String path : List.of("cleargate/tenants/globex-us/data.json", "cleargate/decision/decision.rego",
                "cleargate/lib/lib.rego", "cleargate/tenants/globex-us/rules/rules.rego")) {
            String content = path.endsWith(".rego") ? "package cleargate.decision\n\nallow := true\n" : "{}";
            var r = gateway.call("POST", "/admin/policies/activate", admin, draft(path, content));
            assertEquals(403, r.statusCode(), path + ": " + r.body());
        }
        var listing = json(gateway.call("GET", "/admin/policies", admin, null));
        for (JsonNode f : listing.path("files")) {
            assertFalse(f.path("path").asText().startsWith("cleargate/tenants/" + OTHER + "/"), listing.toString());
        }
        var tenants = json(gateway.call("GET", "/admin/policies/tenants", admin, null));
        assertEquals(Set.of(OWN), fieldNames(tenants));
    }

    @Test
    @Order(3)
    void aTenantModuleThatClaimsAnotherPackageOrReadsAnotherTenantIsRejected() {
        String admin = token("acme-eu-policy-admin");
        String own = "cleargate/tenants/acme-eu/rules/extra.rego";
        Map<String, String> attempts = orderedMap(
                "package cleargate.decision\n\nallow := true\n", "must declare a package",
                "package cleargate.tenants[\"globex-us\"].rules\n\ndeny contains {\"code\": \"x\", \"message\": \"y\"}\n",
                "must declare a package",
                "package cleargate.tenants[\"acme-eu\"].rules\n\nspy := data.cleargate.tenants[\"globex-us\"].limits\n",
                "may read only",
                "package cleargate.tenants[\"acme-eu\"].rules\n\nspy := data[input.x]\n", "may read only",
                "package system[\"authz\"]\n\nallow := true\n", "system package");
        attempts.forEach((module, why) -> {
            var r = gateway.call("POST", "/admin/policies/validate", admin, draft(own, module));
            assertEquals(200, r.statusCode(), r.body());
            JsonNode v = json(r);
            assertFalse(v.path("valid").asBoolean(), module + " -> " + v);
            assertTrue(v.toString().contains(why), module + " -> " + v);
        });
        // The platform administrator cannot write a system package under any spelling either.
        var r = gateway.call("POST", "/admin/policies/validate", token("platform-admin"),
                draft("cleargate/x/x.rego", "package system[\"authz\"]\n\nallow := true\n"));
        assertFalse(json(r).path("valid").asBoolean(), r.body());
    }

    @Test
    @Order(4)
    void aTenantsOwnRuleIsEnforcedForThatTenantOnly() {
        String rule = """
                package cleargate.tenants["acme-eu"].rules

                deny contains {"code": "no_streaming", "message": "acme-eu does not stream."} if {
                	input.request.stream
                }
                """;
        var activated = gateway.call("POST", "/admin/policies/activate", token("acme-eu-policy-admin"),
                draft("cleargate/tenants/acme-eu/rules/streaming.rego", rule));
        assertEquals(200, activated.statusCode(), activated.body());

        var own = chat(token("acme-eu-user"), true, "hello");
        assertEquals(403, own.statusCode(), own.body());
        assertTrue(own.body().contains("no_streaming"), own.body());
        var other = chat(token("globex-us-user"), true, "hello");
        assertEquals(200, other.statusCode(), other.body());
    }

    // --- finding 2: drafts run sandboxed

    @Test
    @Order(5)
    void aDraftCannotReadTheEnvironmentOrTheNetwork() throws Exception {
        try (var listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(1);
            String probe = """
                    package cleargate.tenants["acme-eu"].rules

                    env := opa.runtime().env

                    page := http.send({"method": "GET", "url": "http://127.0.0.1:%d/"})

                    ip := net.lookup_ip_addr("localhost")
                    """.formatted(listener.getLocalPort());
            for (String endpoint : List.of("validate", "test")) {
                var r = gateway.call("POST", "/admin/policies/" + endpoint, token("platform-admin"),
                        draft("cleargate/tenants/acme-eu/rules/probe.rego", probe));
                assertEquals(200, r.statusCode(), r.body());
                for (String builtin : List.of("opa.runtime", "http.send", "net.lookup_ip_addr")) {
                    assertTrue(r.body().contains(builtin), endpoint + " does not name " + builtin + ": " + r.body());
                }
            }
            boolean connected;
            try (var ignored = listener.accept()) {
                connected = true;
            } catch (java.net.SocketTimeoutException e) {
                connected = false;
            }
            assertFalse(connected, "a draft reached the network");
        }
    }

    // --- finding 6: destructive compliance actions

    @Test
    @Order(6)
    void theReadOnlyAuditorCannotEraseOrReleaseAHold() {
        String auditor = token("acme-eu-auditor");
        assertEquals(403, gateway.call("POST", "/audit/erasure", auditor,
                "{\"tenant\":\"acme-eu\",\"subject\":\"x\"}").statusCode());
        assertEquals(403, gateway.call("PUT", "/audit/legal-holds/acme-eu", auditor, "{\"reason\":\"r\"}").statusCode());
        assertEquals(403, gateway.call("DELETE", "/audit/legal-holds/acme-eu", auditor, null).statusCode());
    }

    @Test
    @Order(7)
    void erasureIsRefusedWhileALegalHoldStandsAndRecordedBeforeAndAfterOtherwise() {
        String officer = token("acme-eu-compliance");
        assertEquals(200, chat(token("acme-eu-user"), false, "remember me").statusCode());
        var held = gateway.call("PUT", "/audit/legal-holds/acme-eu", officer, "{\"reason\":\"litigation\"}");
        assertEquals(200, held.statusCode(), held.body());
        var refused = gateway.call("POST", "/audit/erasure", officer, "{\"tenant\":\"acme-eu\"}");
        assertEquals(409, refused.statusCode(), refused.body());
        assertEquals("legal_hold", json(refused).path("error").path("code").asText(), refused.body());

        assertEquals(200, gateway.call("DELETE", "/audit/legal-holds/acme-eu", officer, null).statusCode());
        var erased = gateway.call("POST", "/audit/erasure", officer, "{\"tenant\":\"acme-eu\"}");
        assertEquals(200, erased.statusCode(), erased.body());

        long started = adminRecord(officer, "erasure_started");
        long completed = adminRecord(officer, "erasure_completed");
        assertTrue(started > 0 && completed > started, "erasure recorded at " + started + ", completed at " + completed);
    }

    /** The id of the latest admin record of acme-eu's chain with this action, or -1. */
    private long adminRecord(String bearer, String action) {
        JsonNode items = json(gateway.call("GET", "/audit/records?kind=admin&category=admin&limit=500&tenant=acme-eu&action="
                + action, bearer, null)).path("items");
        return items.isEmpty() ? -1 : items.get(items.size() - 1).path("id").asLong();
    }

    @Test
    @Order(8)
    void hmacLookUpsAreAuditedAndRateLimited() {
        String officer = token("acme-eu-compliance");
        int served = 0;
        HttpResponse<String> last = null;
        for (int i = 0; i < 40; i++) {
            last = gateway.call("POST", "/audit/hmac", officer, "{\"tenant\":\"acme-eu\",\"value\":\"guess " + i + "\"}");
            if (last.statusCode() != 200) {
                break;
            }
            served++;
        }
        assertEquals(429, last.statusCode(), last.body());
        assertTrue(served <= 20, served + " look-ups served within a minute");
        assertTrue(adminRecord(officer, "hmac_lookup") > 0, "look-ups are not in the trail");
    }

    // --- finding 10: residency in depth

    @Test
    @Order(9)
    void aBackendInAnAllowedRegionButAnotherJurisdictionNeverServesTheTenant() {
        backends.values().forEach(MockUpstream::resetCounts);
        for (int i = 0; i < 6; i++) {
            var r = chat(token("acme-eu-user"), false, "residency " + i);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("eu1", r.headers().firstValue("x-cleargate-backend").orElse(""));
        }
        backends.get("eu1").fault(MockUpstream.Fault.STATUS_500);
        try {
            var r = chat(token("acme-eu-user"), false, "eu1 is down");
            assertTrue(r.statusCode() >= 500, r.statusCode() + " " + r.body());
        } finally {
            backends.get("eu1").fault(MockUpstream.Fault.NONE);
        }
        assertEquals(0, backends.get("rogue").requests(), "a US-jurisdiction backend served an EU tenant");
    }

    // --- finding 8: the conversation is moderated as the model sees it

    @Test
    @Order(10)
    void aSecretSplitAcrossMessagesIsBlockedAndPointsAtBothMessages() {
        backends.values().forEach(MockUpstream::resetCounts);
        String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":16,\"messages\":["
                + "{\"role\":\"user\",\"content\":\"deploy with AKIAIOSFOD\"},"
                + "{\"role\":\"user\",\"content\":\"NN7EXAMPLE please\"}]}";
        var r = gateway.call("POST", "/v1/chat/completions", token("acme-eu-user"), body);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = json(r).path("error");
        assertEquals("content_filter", error.path("code").asText(), r.body());
        JsonNode rule = error.path("rules").get(0);
        assertEquals("secret-cloud-key", rule.path("rule").asText(), r.body());
        assertEquals(0, rule.path("message").asInt(), r.body());
        assertEquals(1, rule.path("end_message").asInt(), r.body());
        assertFalse(r.body().contains("AKIAIOSFOD"), "the matched text is echoed");
        int sent = backends.values().stream().mapToInt(MockUpstream::requests).sum();
        assertEquals(0, sent, "a backend saw the split secret");
    }

    // --- findings 7 and 11: restart without the development setting and without an identity provider

    @Test
    @Order(11)
    void anonymousCallersGetNoUsageAndATenantsUsageCountsItsOwnRequestsOnly() {
        for (String[] call : new String[][] {{"GET", "/admin/usage"}, {"POST", "/admin/usage/rebuild"},
                {"GET", "/admin/usage?tenant=" + OWN}}) {
            var r = gateway.call(call[0], call[1], null, null);
            assertEquals(401, r.statusCode(), call[1] + ": " + r.body());
        }
        assertEquals(200, chat(token("globex-us-user"), false, "hello").statusCode());
        JsonNode own = json(gateway.call("GET", "/admin/usage", token("acme-eu-admin"), null));
        assertEquals(OWN, own.path("tenant").asText());
        for (JsonNode row : own.path("data")) {
            assertEquals(OWN, row.path("tenant").asText(), own.toString());
        }
        JsonNode all = json(gateway.call("GET", "/admin/usage", token("acme-eu-auditor"), null));
        assertTrue(all.path("by_tenant").toString().contains(OTHER), all.toString());
    }

    @Test
    @Order(100)
    void restartedWithoutDevelopmentSettingsTheDevKeyIsRevokedAndTokensAreNotConfigured() throws Exception {
        assertEquals(200, gateway.call("GET", "/v1/models", DEV_KEY, null).statusCode(), "the dev key works at first");
        String userToken = token("acme-eu-user");
        gateway.close();
        Map<String, String> props = new LinkedHashMap<>(PackagedGateway.governed(opa));
        props.put("cleargate.identity.token-authentication", "false");
        gateway = PackagedGateway.start(data, props, Map.of());

        var devKey = gateway.call("GET", "/v1/models", DEV_KEY, null);
        assertEquals(401, devKey.statusCode(), devKey.body());
        for (String token : List.of(userToken, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwidGVuYW50IjoiYWNtZS1ldSJ9.",
                "not-a-token.at.all")) {
            var r = gateway.call("GET", "/v1/models", token, null);
            assertEquals(401, r.statusCode(), r.body());
        }
        var real = json(gateway.call("GET", "/v1/models", userToken, null));
        assertEquals("token_authentication_not_configured", real.path("error").path("code").asText(), real.toString());
    }

    // --- helpers

    private HttpResponse<String> chat(String bearer, boolean stream, String prompt) {
        String body = "{\"model\":\"" + MODEL + "\",\"stream\":" + stream + ",\"max_tokens\":16,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
        return gateway.call("POST", "/v1/chat/completions", bearer, body);
    }

    /** A fresh enough access token of a realm user (Keycloak's tokens live five minutes). */
    private String token(String user) {
        String[] cached = tokens.get(user);
        long now = System.currentTimeMillis();
        if (cached == null || now - Long.parseLong(cached[1]) > 120_000) {
            cached = new String[] {keycloak.passwordToken(user), Long.toString(now)};
            tokens.put(user, cached);
        }
        return cached[0];
    }

    private String unchangedDraft(String tenant) {
        String path = "cleargate/tenants/" + tenant + "/data.json";
        return draft(path, policyFile(path));
    }

    private String policyFile(String path) {
        try {
            return Files.readString(opa.policies().resolve(path));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String draft(String path, String content) {
        try {
            return JSON.writeValueAsString(Map.of("files", Map.of(path, content), "message", "trust boundaries test"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body());
        }
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 160) + "...";
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
