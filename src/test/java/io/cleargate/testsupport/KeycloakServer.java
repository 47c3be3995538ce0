package io.cleargate.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Keycloak for the tests, started once per test JVM: installs the server distribution
 * (through bin/lib/keycloak.sh, which fetches it with ./mvnw) when tools/ lacks it, starts it on
 * JDK 25 bound to 127.0.0.1 on a free port with the realm k8s/keycloak/cleargate-realm.json, waits
 * until the realm answers and stops it when the JVM exits. Fails loudly when any step fails: a test
 * never skips because Keycloak is missing.
 *
 * <p>It also registers a per-run RSA signing key in the realm (lowest priority, so Keycloak keeps
 * signing with its own key) and exposes its private half: tests can then forge tokens whose
 * signature verifies, isolating the claim checks (expiry, not-before, issuer, audience).
 */
public final class KeycloakServer {

    public static final String REALM = "cleargate";
    public static final String GATEWAY_CLIENT = "cleargate-gateway";
    public static final String GATEWAY_SECRET = "cleargate-gateway-dev-secret";
    public static final String PASSWORD = "cleargate-dev-password";
    static final String VERSION = System.getProperty("cleargate.keycloak.version", "26.5.6");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(
            Long.getLong("cleargate.keycloak.start-timeout-minutes", 8));

    private static volatile KeycloakServer instance;

    private final int port;
    private final Process process;
    private final Path log;
    private final String adminPassword;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private KeyPair testKey;
    private String testKeyId;

    /** The JVM's Keycloak, started on first use. */
    public static KeycloakServer get() {
        KeycloakServer local = instance;
        if (local == null) {
            synchronized (KeycloakServer.class) {
                local = instance;
                if (local == null) {
                    local = start();
                    instance = local;
                }
            }
        }
        return local;
    }

    private KeycloakServer(int port, Process process, Path log, String adminPassword) {
        this.port = port;
        this.process = process;
        this.log = log;
        this.adminPassword = adminPassword;
    }

    private static KeycloakServer start() {
        Path root = projectRoot();
        Path home = install(root);
        try {
            Path imports = Files.createDirectories(home.resolve("data/import"));
            Files.copy(root.resolve("k8s/keycloak/cleargate-realm.json"), imports.resolve("cleargate-realm.json"),
                    StandardCopyOption.REPLACE_EXISTING);
            int port = freePort();
            int managementPort = freePort();
            Path log = Files.createDirectories(root.resolve("target")).resolve("keycloak-" + port + ".log");
            ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/kc.sh").toString(), "start-dev",
                    "--http-host=127.0.0.1", "--http-port=" + port, "--http-management-port=" + managementPort,
                    "--db=dev-mem", "--import-realm", "--cache=local")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            // The test JVM runs on JDK 25, which Keycloak 26.5 accepts.
            builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
            // JBoss Threads resets thread locals through java.lang internals, closed by default on JDK 24+.
            builder.environment().put("JAVA_OPTS_APPEND", "--add-opens=java.base/java.lang=ALL-UNNAMED");
            String adminPassword = UUID.randomUUID().toString();
            builder.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
            builder.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", adminPassword);
            Process process = builder.start();
            KeycloakServer started = new KeycloakServer(port, process, log, adminPassword);
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "keycloak-stop"));
            started.awaitReady();
            started.registerTestKey();
            return started;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start Keycloak: " + e.getMessage(), e);
        }
    }

    /** Installs the distribution via bin/lib/keycloak.sh unless tools/ already holds it. */
    private static Path install(Path root) {
        Path home = root.resolve("tools/keycloak-" + VERSION);
        if (Files.isExecutable(home.resolve("bin/kc.sh"))) {
            return home;
        }
        try {
            Process p = new ProcessBuilder("bash", "-c", "source bin/lib/keycloak.sh && keycloak_install \"$PWD\"")
                    .directory(root.toFile())
                    .inheritIO()
                    .start();
            if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("installing Keycloak " + VERSION + " with bin/lib/keycloak.sh failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run bin/lib/keycloak.sh: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while installing Keycloak", e);
        }
        if (!Files.isExecutable(home.resolve("bin/kc.sh"))) {
            throw new IllegalStateException("Keycloak install finished but " + home + "/bin/kc.sh is missing");
        }
        return home;
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        URI probe = URI.create(issuer() + "/.well-known/openid-configuration");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Keycloak exited with " + process.exitValue() + " while starting:\n"
                        + tail());
            }
            try {
                var response = http.send(HttpRequest.newBuilder(probe).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Keycloak", e);
            }
            sleep(500);
        }
        stop();
        throw new IllegalStateException("Keycloak was not ready within " + START_TIMEOUT + ":\n" + tail());
    }

    private void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        // kc.sh runs java as a child: stop the children first, then the script.
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public int port() {
        return port;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** The realm URL, which is also the issuer of its tokens when reached at 127.0.0.1. */
    public String issuer() {
        return baseUrl() + "/realms/" + REALM;
    }

    /** A user's access token by the password grant through the gateway client. */
    public String passwordToken(String username) {
        return token(issuer(), Map.of("grant_type", "password", "client_id", GATEWAY_CLIENT,
                "client_secret", GATEWAY_SECRET, "username", username, "password", PASSWORD), "access_token");
    }

    /** Any token of a grant, chosen by {@code field} (access_token, id_token, refresh_token). */
    public String token(String realmUrl, Map<String, String> form, String field) {
        JsonNode body = post(URI.create(realmUrl + "/protocol/openid-connect/token"), form, null);
        JsonNode token = body.get(field);
        if (token == null) {
            throw new IllegalStateException("Keycloak returned no " + field + " (fields " + body.properties().stream()
                    .map(Map.Entry::getKey).toList() + ")");
        }
        return token.asText();
    }

    public String clientCredentialsToken(String clientId, String secret) {
        return token(issuer(), Map.of("grant_type", "client_credentials", "client_id", clientId, "client_secret",
                secret), "access_token");
    }

    /**
     * Lets the realm's console client return browsers to a gateway on {@code gatewayBaseUrl} (tests run
     * the gateway on a free port; the realm file names the default 8080). Exact URIs, as in production.
     */
    public void allowConsoleAt(String gatewayBaseUrl) {
        String admin = token(baseUrl() + "/realms/master", Map.of("grant_type", "password", "client_id", "admin-cli",
                "username", "admin", "password", adminPassword), "access_token");
        JsonNode clients = get(URI.create(baseUrl() + "/admin/realms/" + REALM + "/clients?clientId=cleargate-console"),
                admin);
        var client = (com.fasterxml.jackson.databind.node.ObjectNode) clients.get(0);
        var uris = (com.fasterxml.jackson.databind.node.ArrayNode) client.get("redirectUris");
        uris.add(gatewayBaseUrl + "/console/sso/callback");
        var attributes = (com.fasterxml.jackson.databind.node.ObjectNode) client.get("attributes");
        attributes.put("post.logout.redirect.uris", attributes.path("post.logout.redirect.uris").asText() + "##"
                + gatewayBaseUrl + "/console/sign-in");
        try {
            var request = HttpRequest.newBuilder(URI.create(baseUrl() + "/admin/realms/" + REALM + "/clients/"
                            + client.get("id").asText())).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + admin)
                    .PUT(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(client))).build();
            var response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("Keycloak answered " + response.statusCode() + " to the client update: "
                        + response.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The realm's published keys (JWKS JSON). */
    public JsonNode jwks() {
        return get(URI.create(issuer() + "/protocol/openid-connect/certs"), null);
    }

    /** Private key registered in the realm by this run; tokens it signs carry {@link #testKeyId()}. */
    public KeyPair testKey() {
        return testKey;
    }

    public String testKeyId() {
        return testKeyId;
    }

    /** Registers a generated RSA key in the realm (lowest priority) and learns the kid Keycloak gives it. */
    private void registerTestKey() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            testKey = generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String admin = token(baseUrl() + "/realms/master", Map.of("grant_type", "password", "client_id", "admin-cli",
                "username", "admin", "password", adminPassword), "access_token");
        String realmId = get(URI.create(baseUrl() + "/admin/realms/" + REALM), admin).get("id").asText();
        String pem = Base64.getEncoder().encodeToString(testKey.getPrivate().getEncoded());
        Map<String, Object> component = new LinkedHashMap<>();
        component.put("name", "cleargate-tests-forging-key");
        component.put("providerId", "rsa");
        component.put("providerType", "org.keycloak.keys.KeyProvider");
        component.put("parentId", realmId);
        component.put("config", Map.of("priority", List.of("-100"), "enabled", List.of("true"), "active",
                List.of("true"), "algorithm", List.of("RS256"), "privateKey", List.of(pem)));
        postJson(URI.create(baseUrl() + "/admin/realms/" + REALM + "/components"), component, admin);
        BigInteger modulus = ((RSAPublicKey) testKey.getPublic()).getModulus();
        for (JsonNode key : jwks().get("keys")) {
            if ("RSA".equals(key.path("kty").asText()) && key.has("n")
                    && new BigInteger(1, Base64.getUrlDecoder().decode(key.get("n").asText())).equals(modulus)) {
                testKeyId = key.get("kid").asText();
                return;
            }
        }
        throw new IllegalStateException("the registered test key does not appear in the realm's JWKS");
    }

    private JsonNode post(URI uri, Map<String, String> form, String bearer) {
        String body = form.entrySet().stream()
                .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return send(request.build());
    }

    private void postJson(URI uri, Object body, String bearer) {
        try {
            var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + bearer)
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build();
            var response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() / 100 != 2) {
                throw new IllegalStateException("Keycloak answered " + response.statusCode() + " to " + uri + ": "
                        + response.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private JsonNode get(URI uri, String bearer) {
        var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET();
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return send(request.build());
    }

    private JsonNode send(HttpRequest request) {
        try {
            var response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("Keycloak answered " + response.statusCode() + " to "
                        + request.uri() + ": " + response.body());
            }
            return json.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The project directory (holding pom.xml), whatever the working directory of the test JVM. */
    static Path projectRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("k8s/keycloak"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the project root (pom.xml with k8s/keycloak) above " + dir);
    }
}
