package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Policy drafts run in a sandbox: the packaged capabilities file removes the network, runtime,
 * time and randomness built-ins, the opa child process gets an empty environment, and a module's
 * package is read with OPA's own parser whatever its spelling. Runs the real opa binary.
 */
class OpaSandboxTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> DENIED = List.of("http.send", "net.lookup_ip_addr", "opa.runtime", "time.now_ns",
            "rand.intn", "uuid.rfc4122");

    private final OpaCli sandboxed = new OpaCli(OpaServer.opaBinary(), Duration.ofSeconds(60), JSON);

    @Test
    void thePackagedCapabilitiesListNoNetworkRuntimeOrNondeterministicBuiltinAndNoHost() throws Exception {
        JsonNode caps;
        try (var in = OpaCli.class.getResourceAsStream(OpaCli.CAPABILITIES_RESOURCE)) {
            caps = JSON.readTree(in);
        }
        List<String> names = caps.path("builtins").findValuesAsText("name");
        assertTrue(names.size() > 100, "the file lists too few built-ins: " + names.size());
        for (String denied : DENIED) {
            assertFalse(names.contains(denied), denied + " is in the capabilities");
        }
        assertTrue(caps.path("allow_net").isArray() && caps.path("allow_net").isEmpty(), "hosts are allowed");
    }

    @Test
    void aDraftCallingADeniedBuiltinDoesNotCompile() {
        for (String call : List.of("http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:9/\"})",
                "net.lookup_ip_addr(\"localhost\")", "opa.runtime()", "time.now_ns()")) {
            var errors = sandboxed.check(Map.of("cleargate/probe/probe.rego",
                    "package cleargate.probe\n\nx := " + call + "\n"));
            String name = call.substring(0, call.indexOf('('));
            assertTrue(errors.stream().anyMatch(e -> e.message().contains("undefined function " + name)),
                    call + " -> " + errors);
        }
    }

    /** Even with OPA's full capabilities, the child process sees no environment: nothing of the gateway's leaks. */
    @Test
    void theOpaProcessStartsWithAnEmptyEnvironment() throws Exception {
        assertFalse(System.getenv().isEmpty(), "this test needs an environment to hide");
        Path full = Scratch.file("opa-full-capabilities-", ".json");
        Process p = new ProcessBuilder(OpaServer.opaBinary().toString(), "capabilities", "--current")
                .redirectOutput(full.toFile()).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        try {
            OpaCli unrestricted = new OpaCli(OpaServer.opaBinary(), Duration.ofSeconds(60), JSON, full);
            var decisions = unrestricted.decide(Map.of("cleargate/decision/decision.rego",
                    "package cleargate.decision\n\nenv := opa.runtime().env\n"), List.of(Map.of()));
            assertEquals(Map.of(), decisions.getFirst().get("env"));
        } finally {
            Files.deleteIfExists(full);
        }
    }

    @Test
    void everySpellingOfASystemPackageIsReadAsOne() {
        for (String pkg : List.of("system.authz", "system[\"authz\"]", "system")) {
            var facts = sandboxed.inspect("cleargate/x/x.rego", "package " + pkg + "\n\nallow := true\n");
            assertEquals("system", facts.packagePath().getFirst(), pkg);
            assertTrue(PolicyScope.refusal("cleargate/x/x.rego", facts).contains("system package"), pkg);
        }
    }

    @Test
    void aTenantModuleMayReadOnlyItsOwnTenantsData() {
        String own = "cleargate/tenants/acme-eu/rules/r.rego";
        String header = "package cleargate.tenants[\"acme-eu\"].rules\n\n";
        assertEquals(null, PolicyScope.refusal(own, sandboxed.inspect(own,
                header + "x := data.cleargate.tenants[\"acme-eu\"].limits\n")));
        for (String body : List.of("x := data.cleargate.tenants[\"globex-us\"].limits\n", "x := data.cleargate.lib\n",
                "x := data[input.t]\n", "import data.cleargate.tenants\n\nx := tenants\n")) {
            assertTrue(PolicyScope.refusal(own, sandboxed.inspect(own, header + body)) != null, body);
        }
        assertTrue(PolicyScope.refusal(own, sandboxed.inspect(own, "package cleargate.decision\n\nallow := true\n"))
                .contains("must declare a package"));
    }
}
