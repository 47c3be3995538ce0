package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Renders every overlay under k8s/ with kustomize and checks it offline: strict validation
 * against the Kubernetes schemas kept in k8s/schemas, and the properties the schemas cannot
 * express (data residency per region, hardening, OPA on loopback with a token, secrets).
 */
class KubernetesManifestsTest {

    private static Rendered rendered(String overlay) {
        return Rendered.overlay(overlay);
    }

    static Stream<Arguments> regions() {
        return Stream.of(Arguments.of("eu", "EU", "us"), Arguments.of("us", "US", "eu"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void everyOverlayPassesStrictSchemaValidation(String overlay) {
        K8sTools.Result result = K8sTools.kubeconform(rendered(overlay).yaml());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("Invalid: 0, Errors: 0, Skipped: 0"), result.output());
    }

    @Test
    void aRenderedOverlayWithAMisspelledSecurityFieldIsRejected() {
        String broken = rendered("eu").yaml().replaceFirst("readOnlyRootFilesystem: true", "readOnlyRootFilesytem: true");
        assertNotEquals(rendered("eu").yaml(), broken);
        K8sTools.Result result = K8sTools.kubeconform(broken);
        assertNotEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("additional properties 'readOnlyRootFilesytem' not allowed"), result.output());
    }

    @Test
    void aRenderedOverlayWithAValueOfTheWrongTypeIsRejected() {
        String broken = rendered("us").yaml().replaceFirst("minReplicas: 3", "minReplicas: three");
        assertNotEquals(rendered("us").yaml(), broken);
        K8sTools.Result result = K8sTools.kubeconform(broken);
        assertNotEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("'/spec/minReplicas': got string, want"), result.output());
    }

    @ParameterizedTest
    @MethodSource("regions")
    void eachRegionConfiguresOnlyBackendsOfItsOwnJurisdiction(String overlay, String jurisdiction, String other) {
        Map<String, Map<String, String>> backends = rendered(overlay).backends();
        assertFalse(backends.isEmpty(), overlay + " declares no backend");
        backends.forEach((id, backend) -> {
            assertEquals(jurisdiction, backend.get("jurisdiction"), overlay + " backend " + id);
            assertTrue(backend.get("region").startsWith(overlay + "-"), overlay + " backend " + id + " region " + backend.get("region"));
            assertTrue(backend.containsKey("base-url") && backend.containsKey("models"), overlay + " backend " + id + " is incomplete");
        });
    }

    @ParameterizedTest
    @MethodSource("regions")
    void eachRegionsGatewayMayConnectToItsBackendsAndToNoOtherRegionsBackends(String overlay, String jurisdiction, String other) {
        List<JsonNode> peers = egressPeers(rendered(overlay));
        for (Map<String, String> backend : rendered(overlay).backends().values()) {
            String host = URI.create(backend.get("base-url")).getHost();
            assertTrue(peers.stream().anyMatch(peer -> allows(peer, host)), overlay + " has no egress rule for its backend " + host);
        }
        for (Map<String, String> foreign : rendered(other).backends().values()) {
            String host = URI.create(foreign.get("base-url")).getHost();
            assertFalse(peers.stream().anyMatch(peer -> allows(peer, host)), overlay + " may connect to " + other + " backend " + host);
        }
    }

    @ParameterizedTest
    @MethodSource("regions")
    void theBackendEgressPolicyAllowsNothingBeyondTheConfiguredBackends(String overlay, String jurisdiction, String other) {
        JsonNode policy = rendered(overlay).named("NetworkPolicy", "cleargate-gateway-egress-backends");
        List<String> hosts = rendered(overlay).backends().values().stream()
                .map(b -> URI.create(b.get("base-url")).getHost()).toList();
        for (JsonNode rule : policy.path("spec").path("egress")) {
            for (JsonNode peer : rule.path("to")) {
                assertTrue(hosts.stream().anyMatch(host -> allows(peer, host)), overlay + ": egress peer serves no configured backend: " + peer);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void gatewayTrafficIsLimitedToNamedPortsAndPeers(String overlay) {
        Rendered r = rendered(overlay);
        List<JsonNode> ingress = r.gatewayPolicies("Ingress");
        assertFalse(ingress.isEmpty(), overlay + ": no ingress policy selects the gateway");
        for (JsonNode policy : ingress) {
            for (JsonNode rule : policy.path("spec").path("ingress")) {
                assertEquals(1, rule.path("ports").size(), overlay + ": " + rule);
                int port = rule.path("ports").get(0).path("port").asInt();
                assertTrue(port == 8080 || port == 9090, overlay + ": ingress other than the API and metrics ports: " + rule);
                if (port == 9090) {
                    // Metrics name tenants, backends and models: only Prometheus' namespace may scrape.
                    assertEquals(1, rule.path("from").size(), overlay + ": " + rule);
                    JsonNode peer = rule.path("from").get(0);
                    assertEquals("monitoring", peer.path("namespaceSelector").path("matchLabels")
                            .path("kubernetes.io/metadata.name").asText(), overlay + ": metrics open beyond monitoring: " + rule);
                    assertFalse(peer.has("ipBlock"), overlay + ": " + rule);
                }
            }
        }
        List<JsonNode> egress = r.gatewayPolicies("Egress");
        Set<String> names = new HashSet<>();
        egress.forEach(p -> names.add(p.path("metadata").path("name").asText()));
        Set<String> expected = new HashSet<>(Set.of("cleargate-gateway-egress-dns", "cleargate-gateway-egress-database",
                "cleargate-gateway-egress-keycloak", "cleargate-gateway-egress-backends"));
        if (!overlay.equals("dev")) {
            // The production overlays count rate limits in the shared store (component shared-rate-limits).
            expected.add("cleargate-gateway-egress-rate-limits");
        }
        assertEquals(expected, names, overlay);
        for (JsonNode policy : egress) {
            for (JsonNode rule : policy.path("spec").path("egress")) {
                assertFalse(rule.path("to").isEmpty(), overlay + ": egress rule to anywhere in " + policy.path("metadata").path("name"));
                assertFalse(rule.path("ports").isEmpty(), overlay + ": egress rule on every port in " + policy.path("metadata").path("name"));
                for (JsonNode peer : rule.path("to")) {
                    assertFalse(peer.path("ipBlock").path("cidr").asText().endsWith("/0"), overlay + ": egress to the whole internet");
                    assertFalse(peer.has("namespaceSelector") && peer.path("namespaceSelector").isEmpty() && !peer.has("podSelector"),
                            overlay + ": egress to every namespace");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void everyContainerRunsNonRootWithoutCapabilitiesAndWithinLimits(String overlay) {
        Rendered r = rendered(overlay);
        List<JsonNode> workloads = new ArrayList<>();
        r.ofKind("Deployment").forEach(workloads::add);
        r.ofKind("StatefulSet").forEach(workloads::add);
        assertFalse(workloads.isEmpty());
        for (JsonNode workload : workloads) {
            JsonNode pod = workload.path("spec").path("template").path("spec");
            JsonNode podSecurity = pod.path("securityContext");
            assertFalse(pod.path("automountServiceAccountToken").asBoolean(true), where(overlay, workload, "pod") + " mounts an API token");
            for (String section : List.of("initContainers", "containers")) {
                for (JsonNode container : pod.path(section)) {
                    String where = where(overlay, workload, container.path("name").asText());
                    JsonNode security = container.path("securityContext");
                    assertTrue(security.path("runAsNonRoot").asBoolean(podSecurity.path("runAsNonRoot").asBoolean(false)), where + " may run as root");
                    assertFalse(security.path("allowPrivilegeEscalation").asBoolean(true), where + " allows privilege escalation");
                    assertEquals("[\"ALL\"]", security.path("capabilities").path("drop").toString(), where + " keeps capabilities");
                    assertTrue(security.path("capabilities").path("add").isMissingNode(), where + " adds capabilities");
                    String seccomp = security.path("seccompProfile").path("type").asText(podSecurity.path("seccompProfile").path("type").asText());
                    assertEquals("RuntimeDefault", seccomp, where);
                    // Keycloak's start-dev rewrites its own installation; only the dev overlay runs it.
                    boolean mayWriteRoot = overlay.equals("dev") && container.path("name").asText().equals("keycloak");
                    assertEquals(!mayWriteRoot, security.path("readOnlyRootFilesystem").asBoolean(false), where + " root filesystem");
                    for (String bound : List.of("requests", "limits")) {
                        for (String resource : List.of("cpu", "memory")) {
                            assertFalse(container.path("resources").path(bound).path(resource).asText().isEmpty(), where + " has no " + bound + "." + resource);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void gatewayIsProbedOnQuarkusHealthAndWritesOnlyToTmp(String overlay) {
        Rendered r = rendered(overlay);
        JsonNode gateway = r.container(r.gatewayDeployment(), "containers", "gateway");
        assertEquals("/q/health/live", gateway.path("livenessProbe").path("httpGet").path("path").asText());
        assertEquals("/q/health/ready", gateway.path("readinessProbe").path("httpGet").path("path").asText());
        assertEquals("http", gateway.path("ports").get(0).path("name").asText());
        assertEquals(8080, gateway.path("ports").get(0).path("containerPort").asInt());
        JsonNode tmpVolume = volume(r.gatewayDeployment(), mountedVolume(gateway, "/tmp"));
        assertTrue(tmpVolume.has("emptyDir"), overlay + ": /tmp is not an emptyDir");
        assertEquals("0.0.0.0", r.gatewayEnvironment().get("QUARKUS_HTTP_HOST").asText(), "the gateway must listen on the pod address");
        assertTrue(r.named("Service", "cleargate-gateway").path("spec").path("ports").get(0).path("port").asInt() == 8080);
        // Metrics on their own port, which the annotations point Prometheus at.
        assertEquals("9090", r.gatewayEnvironment().get("CLEARGATE_METRICS_PORT").asText());
        assertEquals("metrics", gateway.path("ports").get(1).path("name").asText());
        assertEquals(9090, gateway.path("ports").get(1).path("containerPort").asInt());
        assertEquals("9090", r.gatewayDeployment().path("spec").path("template").path("metadata").path("annotations")
                .path("prometheus.io/port").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void opaRunsBesideTheGatewayOnLoopbackWithTokenAuthentication(String overlay) {
        Rendered r = rendered(overlay);
        JsonNode opa = r.container(r.gatewayDeployment(), "initContainers", "opa");
        assertEquals("Always", opa.path("restartPolicy").asText(), "OPA must be a native sidecar that starts before the gateway");
        List<String> args = new ArrayList<>();
        opa.path("args").forEach(a -> args.add(a.asText()));
        assertTrue(args.contains("--authentication=token"), args.toString());
        assertTrue(args.contains("--authorization=basic"), args.toString());
        assertTrue(args.contains("--addr=127.0.0.1:8181"), "OPA's API must listen on loopback only: " + args);
        assertTrue(args.contains("--set=bundles.cleargate.resource=file:///bundles/policy/bundle.tar.gz")
                && args.contains("/bundles/credentials"), args.toString());
        // Signed: a signing block with a key id, and the verification key from its own ConfigMap.
        assertTrue(args.contains("--set=bundles.cleargate.signing.keyid=cleargate"), args.toString());
        assertTrue(args.contains("--set-file=keys.cleargate.key=/bundles/verification/verification-key.pem"), args.toString());
        JsonNode verification = volume(r.gatewayDeployment(), mountedVolume(opa, "/bundles/verification"));
        assertTrue(verification.path("configMap").path("name").asText().startsWith("cleargate-opa-verification-key"),
                verification.toString());
        // Production verifies with the key pinned in the overlay, never with one derived from whoever built the bundle.
        String key = r.named("ConfigMap", "cleargate-opa-verification-key").path("data").path("verification-key.pem").asText();
        Path pinned = K8sTools.ROOT.resolve("k8s/overlays/" + overlay + "/bundle-verification-key.pem");
        Path derived = K8sTools.ROOT.resolve("k8s/base/opa/verification-key.pem");
        try {
            assertEquals(Files.readString(overlay.equals("dev") ? derived : pinned), key, overlay + ": not the expected verification key");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        JsonNode startup = opa.path("startupProbe").path("exec").path("command");
        assertTrue(startup.size() > 0 && startup.get(startup.size() - 1).asText().contains("http://127.0.0.1:8282/health?bundles"),
                "the gateway must not start before the signed bundle is active: " + startup);
        assertEquals("http://127.0.0.1:8181", r.gatewayEnvironment().get("CLEARGATE_OPA_URL").asText());
        assertEquals(List.of("cleargate-opa", "gateway-token", "required"), secretFiles(r).get("CLEARGATE_POLICY_TOKEN"),
                "the OPA token must come from a Secret file");
        // OPA's diagnostics (health, metrics, bundle status) on loopback only; probed from inside the container.
        assertTrue(args.contains("--diagnostic-addr=127.0.0.1:8282"), args.toString());
        assertTrue(args.stream().noneMatch(a -> a.contains("0.0.0.0")), "OPA listens beyond loopback: " + args);
        assertTrue(opa.path("ports").isMissingNode() || opa.path("ports").isEmpty(), "OPA declares a pod port");
        for (String probe : List.of("startupProbe", "livenessProbe")) {
            assertEquals("/opa", opa.path(probe).path("exec").path("command").get(0).asText(), probe);
        }
        JsonNode credentials = volume(r.gatewayDeployment(), mountedVolume(opa, "/bundles/credentials"));
        assertTrue(credentials.path("projected").path("sources").toString().contains("\"path\":\"system/credentials/data.json\""), credentials.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void theDatabaseConnectionComesFromASecret(String overlay) {
        Rendered r = rendered(overlay);
        assertEquals("postgresql", r.gatewayEnvironment().get("CLEARGATE_DB_KIND").asText());
        Map<String, String> keys = Map.of("CLEARGATE_DB_URL", "url", "CLEARGATE_DB_USER", "username", "CLEARGATE_DB_PASSWORD", "password");
        keys.forEach((variable, key) -> assertEquals(List.of("cleargate-db", key, "required"), secretFiles(r).get(variable),
                overlay + " " + variable + " not from Secret cleargate-db"));
    }

    /**
     * Secrets reach the gateway as files of a mounted Secret volume (read by
     * io.cleargate.config.SecretsDirectory), never as environment variables, which child
     * processes inherit and /proc/PID/environ shows.
     */
    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void noSecretIsAnEnvironmentVariableOfTheGateway(String overlay) {
        Rendered r = rendered(overlay);
        JsonNode gateway = r.container(r.gatewayDeployment(), "containers", "gateway");
        assertFalse(gateway.path("env").toString().contains("secretKeyRef"), overlay + ": " + gateway.path("env"));
        assertFalse(gateway.path("envFrom").toString().contains("secretRef"), overlay + ": " + gateway.path("envFrom"));
        String directory = r.gatewayEnvironment().get("CLEARGATE_SECRETS_DIR").asText();
        assertEquals("secrets", mountedVolume(gateway, directory), overlay);
        for (JsonNode mount : gateway.path("volumeMounts")) {
            if (mount.path("mountPath").asText().equals(directory)) {
                assertTrue(mount.path("readOnly").asBoolean(), overlay + ": the secrets are mounted writable");
            }
        }
        Set<String> expected = new java.util.HashSet<>(Set.of("CLEARGATE_DB_URL", "CLEARGATE_DB_USER", "CLEARGATE_DB_PASSWORD",
                "CLEARGATE_POLICY_TOKEN", "CLEARGATE_POLICY_ADMIN_OPA_TOKEN", "CLEARGATE_AUDIT_MASTER_KEY",
                "CLEARGATE_AUDIT_SIGNING_KEY", "*"));
        if (overlay.equals("dev")) {
            // The development tenant's published API key (dev overlay only).
            expected.add("CLEARGATE_DEV_KEY");
            assertEquals(List.of("cleargate-dev-key", "key", "required"), secretFiles(r).get("CLEARGATE_DEV_KEY"));
        }
        assertEquals(expected, secretFiles(r).keySet(), overlay);
    }

    /** Per-pod keys would make each replica reject the others' checkpoints (see TwoReplicasIT). */
    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void everyReplicaTakesTheSameAuditKeysFromOneSecret(String overlay) {
        Rendered r = rendered(overlay);
        Map<String, String> keys = Map.of("CLEARGATE_AUDIT_MASTER_KEY", "master-key", "CLEARGATE_AUDIT_SIGNING_KEY", "signing-key");
        keys.forEach((file, key) -> {
            assertEquals(List.of("cleargate-audit", key, "required"), secretFiles(r).get(file),
                    overlay + " " + file + " not from Secret cleargate-audit, or optional");
            if (overlay.equals("dev")) {
                // The development Secret: each value the base64 of 32 bytes, as AuditConfig requires.
                String data = r.named("Secret", "cleargate-audit").path("data").path(key).asText();
                byte[] value = java.util.Base64.getDecoder().decode(new String(java.util.Base64.getDecoder().decode(data)));
                assertEquals(32, value.length, "dev " + key);
            }
        });
    }

    /** Tenants and moderation profiles travel in the bundle, which the gateway reads too. */
    @ParameterizedTest
    @ValueSource(strings = {"dev", "eu", "us"})
    void theGatewayReadsTenantsAndModerationProfilesFromTheBundleOpaRuns(String overlay) {
        Rendered r = rendered(overlay);
        Map<String, JsonNode> environment = r.gatewayEnvironment();
        JsonNode gateway = r.container(r.gatewayDeployment(), "containers", "gateway");
        JsonNode opa = r.container(r.gatewayDeployment(), "initContainers", "opa");
        String bundle = environment.get("CLEARGATE_POLICY_BUNDLE").asText();
        String mount = bundle.substring(0, bundle.lastIndexOf('/'));
        assertEquals(mountedVolume(opa, "/bundles/policy"), mountedVolume(gateway, mount), "not the bundle OPA loads");
        String tree = environment.get("CLEARGATE_POLICIES_DIR").asText();
        assertTrue(tree.startsWith("/tmp/"), "the unpacked tree must sit on the writable /tmp: " + tree);
        assertEquals(tree + "/cleargate/moderation/profiles/data.json", environment.get("CLEARGATE_MODERATION_PROFILES").asText());
        assertEquals("gitops", environment.get("CLEARGATE_POLICY_ADMIN_MODE").asText());
        Map<String, String> files = Rendered.untar(r.named("ConfigMap", "cleargate-opa-bundle").path("binaryData")
                .path("bundle.tar.gz").asText());
        assertTrue(files.containsKey("cleargate/moderation/profiles/data.json"), files.keySet().toString());
        for (String tenant : List.of("acme-eu", "globex-us", "dev")) {
            assertTrue(files.containsKey("cleargate/tenants/" + tenant + "/data.json"), files.keySet().toString());
        }
        assertTrue(files.containsKey(".signatures.json"), "the bundle is not signed");
        // The gateway checks the signature itself, with the very key and algorithm the sidecar uses.
        String key = environment.get("CLEARGATE_POLICY_BUNDLE_VERIFICATION_KEY").asText();
        assertEquals(mountedVolume(opa, "/bundles/verification"), mountedVolume(gateway, key.substring(0, key.lastIndexOf('/'))),
                "the gateway verifies with another key than OPA");
        assertEquals("verification-key.pem", key.substring(key.lastIndexOf('/') + 1));
        List<String> args = new ArrayList<>();
        opa.path("args").forEach(a -> args.add(a.asText()));
        assertTrue(args.contains("--set=keys.cleargate.algorithm=" + environment.get("CLEARGATE_POLICY_BUNDLE_VERIFICATION_ALGORITHM")
                .asText()), "the gateway and OPA verify with different algorithms: " + args);
        // Only public keys reach the cluster: the signing key stays with whoever builds bundles.
        assertFalse(r.yaml().contains("PRIVATE KEY"), overlay + " renders a private key");
        String revision = files.get(".manifest").replaceAll(".*\"revision\":\"([0-9a-f]+)\".*\\s*", "$1");
        assertTrue(files.get("cleargate/meta/data.json").contains(revision), "decisions would not carry the revision");
    }

    /**
     * The files of the gateway's "secrets" volume: file name to [Secret name (without kustomize's
     * hash suffix), key, "required" or "optional"]; a whole Secret projected without items is "*".
     */
    private static Map<String, List<String>> secretFiles(Rendered r) {
        Map<String, List<String>> files = new java.util.LinkedHashMap<>();
        for (JsonNode source : volume(r.gatewayDeployment(), "secrets").path("projected").path("sources")) {
            JsonNode secret = source.path("secret");
            String name = secret.path("name").asText().replaceFirst("-[a-z0-9]{10}$", "");
            String required = secret.path("optional").asBoolean(false) ? "optional" : "required";
            if (!secret.has("items")) {
                files.put("*", List.of(name, "*", required));
            }
            for (JsonNode item : secret.path("items")) {
                files.put(item.path("path").asText(), List.of(name, item.path("key").asText(), required));
            }
        }
        return files;
    }

    @Test
    void thePolicyBundleHoldsThePoliciesWithoutTestsAndLeavesCredentialsToTheSecret() {
        JsonNode configMap = rendered("eu").named("ConfigMap", "cleargate-opa-bundle");
        Map<String, String> files = Rendered.untar(configMap.path("binaryData").path("bundle.tar.gz").asText());
        assertTrue(files.keySet().stream().anyMatch(f -> f.endsWith(".rego")), "no policy in the bundle: " + files.keySet());
        assertTrue(files.keySet().stream().noneMatch(f -> f.endsWith("_test.rego")), "tests shipped in the bundle: " + files.keySet());
        assertTrue(files.keySet().stream().noneMatch(f -> f.startsWith("system/credentials")), files.keySet().toString());
        String manifest = files.get(".manifest");
        assertTrue(manifest != null && manifest.contains("\"roots\""), "bundle manifest: " + manifest);
        assertFalse(manifest.contains("\"system\"") || manifest.contains("system/credentials"),
                "the policy bundle must not claim the credentials root: " + manifest);
    }

    @Test
    void theDevOverlayImportsTheCleargateRealmIntoKeycloak() {
        Rendered dev = rendered("dev");
        JsonNode keycloak = dev.container(dev.named("Deployment", "keycloak"), "containers", "keycloak");
        assertTrue(keycloak.path("args").toString().contains("--import-realm"));
        JsonNode realmVolume = volume(dev.named("Deployment", "keycloak"), mountedVolume(keycloak, "/opt/keycloak/data/import"));
        String configMapName = realmVolume.path("configMap").path("name").asText();
        JsonNode realm = dev.ofKind("ConfigMap").filter(c -> c.path("metadata").path("name").asText().equals(configMapName))
                .findFirst().orElseGet(() -> fail("realm ConfigMap " + configMapName + " not rendered"));
        assertTrue(realm.path("data").path("cleargate-realm.json").asText().contains("\"realm\""));
        assertEquals(1, dev.ofKind("StatefulSet").filter(s -> s.path("metadata").path("name").asText().equals("postgresql")).count());
    }

    private static String where(String overlay, JsonNode workload, String container) {
        return overlay + "/" + workload.path("kind").asText() + "/" + workload.path("metadata").path("name").asText() + "/" + container;
    }

    private static String mountedVolume(JsonNode container, String path) {
        for (JsonNode mount : container.path("volumeMounts")) {
            if (path.equals(mount.path("mountPath").asText())) {
                return mount.path("name").asText();
            }
        }
        return fail(container.path("name").asText() + " mounts nothing at " + path);
    }

    private static JsonNode volume(JsonNode workload, String name) {
        for (JsonNode volume : workload.path("spec").path("template").path("spec").path("volumes")) {
            if (name.equals(volume.path("name").asText())) {
                return volume;
            }
        }
        return fail("no volume " + name);
    }

    /** Every peer of every egress rule of the policies that select the gateway. */
    private static List<JsonNode> egressPeers(Rendered r) {
        List<JsonNode> peers = new ArrayList<>();
        for (JsonNode policy : r.gatewayPolicies("Egress")) {
            for (JsonNode rule : policy.path("spec").path("egress")) {
                rule.path("to").forEach(peers::add);
            }
        }
        return peers;
    }

    /**
     * Whether a NetworkPolicy peer admits a backend host: an IP inside its ipBlock, or an
     * in-cluster service name (name.namespace.svc...) whose namespace it selects by name.
     */
    private static boolean allows(JsonNode peer, String host) {
        if (peer.has("ipBlock")) {
            return host.matches("[0-9.]+") && inCidr(host, peer.path("ipBlock").path("cidr").asText());
        }
        String[] labels = host.split("\\.");
        if (labels.length >= 3 && labels[2].equals("svc")) {
            String selected = peer.path("namespaceSelector").path("matchLabels").path("kubernetes.io/metadata.name").asText();
            return labels[1].equals(selected);
        }
        return false;
    }

    private static boolean inCidr(String address, String cidr) {
        try {
            String[] parts = cidr.split("/");
            int bits = Integer.parseInt(parts[1]);
            long mask = bits == 0 ? 0 : 0xFFFFFFFFL << (32 - bits) & 0xFFFFFFFFL;
            return (ipv4(address) & mask) == (ipv4(parts[0]) & mask);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(cidr, e);
        }
    }

    private static long ipv4(String literal) throws UnknownHostException {
        byte[] bytes = InetAddress.getByName(literal).getAddress();
        long value = 0;
        for (byte b : bytes) {
            value = value << 8 | (b & 0xFF);
        }
        return value;
    }
}
