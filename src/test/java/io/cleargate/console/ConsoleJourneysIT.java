package io.cleargate.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.testsupport.Browser;
import io.cleargate.testsupport.KeycloakServer;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.Scratch;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The console's user journeys in a real headless Chromium against the packaged gateway, with a
 * real OPA (the repository's policies), a real Keycloak (single sign-on through its login form)
 * and a mock LLM upstream. Every page visited is scanned with axe-core (no serious violation) and
 * saved as a screenshot under target/console-screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleJourneysIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DEV_KEY = "cg_5e1f0c0a_" + "4b".repeat(32);
    private static final String MODEL = "deepseek-moe-16b-chat";
    private static final String EMAIL = "jane.doe@example.com";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static OpaServer opa;
    private static KeycloakServer keycloak;
    private static MockUpstream upstream;
    private static Process gateway;
    private static Path data;
    private static String base;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        keycloak = KeycloakServer.get();
        opa = OpaServer.start(java.util.Map.of());
        upstream = MockUpstream.start("eu-west-1").reply("Write to " + EMAIL + " for the report.");
        data = Scratch.dir("cleargate-console-it");
        int port = OpaServer.freePort();
        base = "http://127.0.0.1:" + port;
        keycloak.allowConsoleAt(base);
        gateway = startGateway(port);
        browser = Browser.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (gateway != null) {
            gateway.destroy();
            gateway.waitFor(20, TimeUnit.SECONDS);
        }
        if (upstream != null) {
            upstream.close();
        }
        if (opa != null) {
            opa.close();
        }
    }

    @Test
    @Order(1)
    void anApiKeySignsInShowsOnlyWhatItsRolesAllowAndEveryChangeNeedsTheCsrfToken() throws Exception {
        browser.open(base + "/console/audit");
        assertTrue(browser.url().contains("/console/sign-in"), "an anonymous visit is sent to sign-in: " + browser.url());
        browser.check("sign-in");
        browser.type("#api_key", DEV_KEY);
        browser.find("#api_key").submit();
        browser.waitFor("the explorer after sign-in", d -> d.getCurrentUrl().contains("/console/audit"));
        String session = browser.cookie("cg_console");
        assertNotNull(session, "a session cookie");
        assertFalse(session.contains(DEV_KEY.substring(12)), "the cookie holds a session id, never the key");
        // The development key holds every role: every entry is offered.
        browser.open(base + "/console");
        List<String> nav = browser.all("header nav a").stream().map(e -> e.getText()).toList();
        assertTrue(nav.containsAll(List.of("Audit explorer", "Verification", "Policy workbench", "Playground")), nav.toString());
        browser.check("overview");
        browser.tabTo("header nav a[href='/console/audit']", 10);

        HttpResponse<String> page = get("/console", session);
        String csp = page.headers().firstValue("content-security-policy").orElse("");
        assertTrue(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), csp);
        String setCookie = signInHeaders(DEV_KEY).stream().filter(h -> h.startsWith("cg_console=")).findFirst().orElseThrow();
        assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), setCookie);
        // A change without the CSRF token is refused, with the session cookie alone.
        HttpResponse<String> forged = post("/console/sign-out", session, "");
        assertEquals(403, forged.statusCode());
        assertTrue(forged.body().contains("csrf_token_invalid"), forged.body());
        // A gateway user without compliance roles sees neither the explorer link nor the page.
        String userKey = createKey("dev", "console-user", "gateway-user");
        String userSession = sessionFor(userKey);
        String home = get("/console", userSession).body();
        assertFalse(home.contains("/console/audit"), "no audit entry for a gateway user");
        assertEquals(403, get("/console/audit", userSession).statusCode());

        // Signing out ends the session on the server: its cookie opens nothing any more.
        signOut();
        assertEquals(303, get("/console", session).statusCode(), "a closed session is sent to sign-in");
        browser.open(base + "/console/sign-in");
        browser.type("#api_key", userKey);
        browser.find("#api_key").submit();
        browser.waitFor("the overview of a gateway user", d -> !d.findElements(org.openqa.selenium.By.cssSelector("header nav")).isEmpty());
        assertNav(List.of("Overview", "Published rules", "Playground"),
                List.of("Audit explorer", "Verification", "Transparency", "Policy workbench"));
        browser.open(base + "/console/audit");
        assertTrue(browser.text("main").contains("Error 403"), browser.text("main"));
        browser.check("error-forbidden");
    }

    @Test
    @Order(2)
    void anOfficerFindsAUsersRedactedRequestsOfTheWeekSeesTheSpansVerifiesAndExportsEvidenceThatVerifiesOffline()
            throws Exception {
        String userToken = keycloak.passwordToken("acme-eu-user");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = chat(userToken, "Who gets the quarterly report " + i + "?");
            assertEquals(200, r.statusCode(), r.body());
            assertFalse(r.body().contains(EMAIL), "the answer is redacted");
        }
        assertEquals(200, chat(keycloak.passwordToken("acme-eu-admin"), "Another person's question").statusCode());

        signOut();
        ssoSignIn("acme-eu-compliance");
        assertNav(List.of("Overview", "Audit explorer", "Verification", "Transparency", "Published rules", "Playground"),
                List.of("Policy workbench"));
        browser.open(base + "/console/audit");
        browser.type("#person", "acme-eu-user");
        new org.openqa.selenium.support.ui.Select(browser.find("#preset")).selectByValue("7d");
        new org.openqa.selenium.support.ui.Select(browser.find("#action")).selectByValue("redact");
        browser.find("#person").submit();
        browser.waitFor("search results", d -> d.getCurrentUrl().contains("person=acme-eu-user"));
        List<String> rows = browser.all("#results tbody tr").stream().map(e -> e.getText()).toList();
        assertEquals(3, rows.size(), rows.toString());
        rows.forEach(r -> assertTrue(r.contains("redact: pii.email") && r.contains("acme-eu-user"), r));
        browser.check("audit-explorer");
        String shared = browser.find("#share-link").getAttribute("href");
        assertTrue(shared.contains("preset=7d") && shared.contains("action=redact"), shared);

        browser.find("#results tbody tr a").click();
        browser.waitFor("the record view", d -> d.getCurrentUrl().contains("/console/audit/records/"));
        assertTrue(browser.text("main").contains("allow"), "the policy decision is on the timeline");
        assertTrue(browser.text("main").contains("eu-west"), "the route is on the timeline");
        assertTrue(browser.text("main").contains(" ms total"), "latency is on the timeline");
        assertFalse(browser.text("main").contains("-1 ms"), "the trail's 'no first byte' is not a latency");
        browser.check("audit-record");
        browser.type("#reason", "Investigating ticket 4711");
        browser.find("#reason").submit();
        browser.waitFor("the content", d -> !d.findElements(org.openqa.selenium.By.cssSelector("#output")).isEmpty());
        List<String> marks = browser.all("#output mark").stream().map(e -> e.getText()).toList();
        assertTrue(marks.contains("[EMAIL_1]"), "the redaction is highlighted: " + marks);
        assertFalse(browser.text("#output").contains(EMAIL));
        browser.check("audit-record-content");

        String session = browser.cookie("cg_console");
        JsonNode views = getJson("/audit/records?kind=admin&tenant=acme-eu&limit=500", DEV_KEY);
        assertTrue(views.toString().contains("content_view"), "the content view is audited");

        browser.open(base + "/console/verify");
        browser.click("#verify-now");
        browser.waitFor("the verification", d -> !d.findElements(org.openqa.selenium.By.id("verify-result")).isEmpty());
        assertEquals("all chains verify", browser.text("#verify-result"));
        assertTrue(browser.text("#chains").contains("acme-eu"));
        browser.check("verification");

        browser.open(shared);
        String evidenceHref = browser.find("a[href^='/console/audit/evidence']").getAttribute("href");
        HttpResponse<byte[]> zip = HTTP.send(HttpRequest.newBuilder(URI.create(evidenceHref))
                .header("Cookie", "cg_console=" + session).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, zip.statusCode());
        Path bundle = unzip(zip.body());
        assertEquals(3, Files.readAllLines(bundle.resolve("records.jsonl")).size());
        String pubkey = JSON.readTree(Files.readAllLines(bundle.resolve("export.jsonl")).getFirst())
                .path("signing_keys").properties().iterator().next().getValue().asText();
        Process verify = new ProcessBuilder("python3", "verify", "export.jsonl", "--pubkey", pubkey)
                .directory(bundle.toFile()).redirectErrorStream(true).start();
        String out = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(verify.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, verify.exitValue(), "the evidence verifies offline: " + out);
        Process since = new ProcessBuilder("python3", "verify", "export.jsonl", "--pubkey", pubkey, "--since",
                "checkpoints.jsonl").directory(bundle.toFile()).redirectErrorStream(true).start();
        String sinceOut = new String(since.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(since.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, since.exitValue(), "the export extends the bundle's checkpoints: " + sinceOut);
        // ... and a tampered copy does not.
        Path export = bundle.resolve("export.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(export));
        int edited = 1;
        while (!lines.get(edited).contains("acme-eu-user")) {
            edited++;
        }
        lines.set(edited, lines.get(edited).replace("acme-eu-user", "acme-eu-usex"));
        Files.write(export, lines);
        Process tampered = new ProcessBuilder("python3", "verify", "export.jsonl", "--pubkey", pubkey)
                .directory(bundle.toFile()).redirectErrorStream(true).start();
        tampered.getInputStream().readAllBytes();
        assertTrue(tampered.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, tampered.exitValue(), "an edited export fails");

        browser.open(base + "/console/transparency");
        assertTrue(browser.all("svg.chart").size() >= 2, "charts of requests and redactions");
        assertTrue(browser.text("main").contains("pii.email"));
        browser.check("transparency");

        // The read-only pages work without JavaScript: search, open, view content, verify, charts, rules.
        browser.withoutJavaScript(() -> {
            browser.open(base + "/console/playground");
            assertTrue(browser.text("main").contains("The playground streams answers with JavaScript"),
                    "scripts are off (the playground says so)");
            browser.open(shared);
            assertEquals(3, browser.all("#results tbody tr").size());
            browser.find("#results tbody tr a").click();
            browser.waitFor("the record without scripts", d -> d.getCurrentUrl().contains("/console/audit/records/"));
            browser.type("#reason", "Checking the page without scripts");
            browser.click("form[action*='/content'] button");
            browser.waitFor("the content without scripts", d -> !d.findElements(org.openqa.selenium.By.cssSelector("#output mark")).isEmpty());
            browser.open(base + "/console/verify");
            browser.click("#verify-now");
            browser.waitFor("the verification without scripts", d -> !d.findElements(org.openqa.selenium.By.id("verify-result")).isEmpty());
            assertEquals("all chains verify", browser.text("#verify-result"));
            browser.open(base + "/console/transparency?range=7d");
            assertTrue(browser.all("svg.chart").size() >= 2);
            browser.open(base + "/console/rules");
            assertFalse(browser.all("#rules tbody tr").isEmpty());
            browser.open(base + "/console/models");
            assertTrue(browser.text("main").contains("refuse or deflect"), browser.text("main"));
        });
    }

    @Test
    @Order(3)
    void aPolicyAdminFixesADraftAtItsErrorLineActivatesItSeesItInHistoryAndRollsBackWhileAnotherTenantSeesNone() {
        signOut();
        ssoSignIn("acme-eu-policy-admin");
        assertNav(List.of("Overview", "Published rules", "Policy workbench", "Playground"),
                List.of("Audit explorer", "Verification", "Transparency"));
        browser.open(base + "/console/policies");
        browser.check("policy-workbench");
        String file = "cleargate/tenants/acme-eu/rules/rules.rego";
        browser.open(base + "/console/policies/edit?path=" + file);
        String original = browser.find("#content").getAttribute("value");
        String broken = original + "\nbroken_rule if {\n  input.x ==\n}\n";
        int lastGood = (int) original.lines().count();
        setDraft(broken);
        browser.find("button[value='validate']").click();
        browser.waitFor("validation errors", d -> !d.findElements(org.openqa.selenium.By.cssSelector("#validation li")).isEmpty());
        String errors = browser.text("#validation");
        var row = java.util.regex.Pattern.compile(":(\\d+):(\\d+):").matcher(errors);
        assertTrue(row.find(), "an error at row and column: " + errors);
        int line = Integer.parseInt(row.group(1));
        assertTrue(line > lastGood && line <= lastGood + 4, "the error is on the broken rule's lines: " + errors);
        assertFalse(browser.all("#listing .err-line").isEmpty(), "the listing marks the line");
        browser.check("policy-editor-error");

        String fixed = original + "\n# reviewed by the console test\n";
        setDraft(fixed);
        browser.find("button[value='validate']").click();
        browser.waitFor("a valid draft", d -> !d.findElements(org.openqa.selenium.By.cssSelector("p#validation")).isEmpty());
        assertEquals("The draft compiles.", browser.text("#validation"));
        browser.find("button[value='what-if']").click();
        browser.waitFor("the what-if", d -> !d.findElements(org.openqa.selenium.By.id("what-if")).isEmpty());
        assertTrue(browser.text("#what-if").contains("0 decisions would change"), browser.text("#what-if"));
        browser.check("policy-what-if");
        browser.type("#message", "Console journey: comment only");
        browser.find("button[value='activate']").click();
        browser.waitFor("the history", d -> d.getCurrentUrl().contains("activated=1"));
        String history = browser.text("#history");
        assertTrue(history.contains("Console journey: comment only"), history);
        browser.find("#history tbody tr a").click();
        browser.waitFor("the diff", d -> !d.findElements(org.openqa.selenium.By.cssSelector("#diff .add")).isEmpty());
        assertTrue(browser.text("#diff").contains("reviewed by the console test"));
        String changeUrl = browser.url();
        browser.check("policy-change");
        browser.find("form[action*='/rollback'] button").click();
        browser.waitFor("the rollback", d -> d.getCurrentUrl().contains("rolledBack="));
        assertTrue(browser.text("#history").contains("rollback"), browser.text("#history"));
        assertFalse(opaPolicyContains("reviewed by the console test"), "the rollback restored the file");

        // The explain pad highlights what a pasted text triggers in the tenant's profile.
        browser.open(base + "/console/rules");
        browser.type("#text", "Please mail " + EMAIL + " today");
        browser.find("#text").submit();
        browser.waitFor("the explanation", d -> !d.findElements(org.openqa.selenium.By.id("explained")).isEmpty());
        assertTrue(browser.all("#explained-text mark").stream().anyMatch(m -> m.getText().equals(EMAIL)),
                browser.text("#explained-text"));
        browser.check("explain-pad");

        signOut();
        ssoSignIn("globex-us-policy-admin");
        browser.open(base + "/console/policies");
        assertFalse(browser.text("#history").contains("Console journey"), "another tenant's admin sees none of it");
        browser.open(changeUrl);
        assertTrue(browser.all("#diff").isEmpty(), "another tenant's change stays hidden: " + browser.text("main"));
    }

    @Test
    @Order(4)
    void aTenantUserReadsThePublishedRulesAndGetsARedactedAnswerInThePlayground() {
        signOut();
        ssoSignIn("acme-eu-user");
        assertNav(List.of("Overview", "Published rules", "Playground"),
                List.of("Audit explorer", "Verification", "Transparency", "Policy workbench"));
        browser.open(base + "/console/rules");
        assertTrue(browser.text("#rules").contains("pii.email"), "the published rules name the e-mail rule");
        browser.check("published-rules");
        browser.open(base + "/console/playground");
        // Only the models the tenant's policy opens are offered (the bundled engine's model is not).
        List<String> models = browser.all("#model option").stream().map(e -> e.getAttribute("value")).toList();
        assertEquals(List.of(MODEL), models);
        browser.type("#prompt", "Who receives the report?");
        browser.click("#send");
        browser.waitFor("the streamed answer or a refusal", d -> {
            String status = d.findElement(org.openqa.selenium.By.id("status")).getText();
            return status.contains("complete") || status.matches("[1-9]\\d\\d") && !status.startsWith("2");
        });
        assertTrue(browser.text("#status").contains("200 · complete"), browser.text("main"));
        String answer = browser.text("#answer");
        assertTrue(answer.contains("[EMAIL_1]") && !answer.contains(EMAIL), answer);
        assertTrue(browser.text("#verdicts").contains("redact pii.email"), browser.text("#verdicts"));
        assertEquals("eu-west", browser.text("#region"));
        browser.check("playground");
        // The model transparency report is about the models, not tenants' data: every user reads it.
        browser.open(base + "/console/models");
        assertTrue(browser.text("main").contains("refuse or deflect"), browser.text("main"));
        browser.check("model-transparency");
    }

    @Test
    @Order(5)
    void everyConsoleChangeDemandsTheSessionsCsrfTokenFromItsOwnOriginAndEveryResponseCarriesTheStrictCsp()
            throws Exception {
        assertFalse(ConsoleHeaders.CSP.contains("unsafe-inline") || ConsoleHeaders.CSP.contains("unsafe-eval"));
        assertTrue(ConsoleHeaders.CSP.contains("default-src 'none'") && ConsoleHeaders.CSP.contains("connect-src 'self'"));
        String session = sessionFor(DEV_KEY);
        var token = java.util.regex.Pattern.compile("_csrf=([A-Za-z0-9_-]+)").matcher(get("/console", session).body());
        assertTrue(token.find(), "the sign-out form carries the session's token");
        String csrf = token.group(1);
        List<String[]> endpoints = consoleEndpoints();
        assertTrue(endpoints.size() >= 15, "the console's resources were found: " + endpoints.size());
        endpoints.add(new String[] {"GET", "/console/assets/console.css"});
        endpoints.add(new String[] {"GET", "/console/assets/console.js"});
        endpoints.add(new String[] {"GET", "/console/no-such-page"});
        List<String> failures = new ArrayList<>();
        int changes = 0;
        for (String[] e : endpoints) {
            String method = e[0];
            String path = e[1].replaceAll("\\{[^}]+}", "1");
            if (method.equals("GET")) {
                HttpResponse<String> r = get(path, session);
                if (!ConsoleHeaders.CSP.equals(r.headers().firstValue("content-security-policy").orElse(""))) {
                    failures.add("GET " + path + " (" + r.statusCode() + ") lacks the console's CSP");
                }
                continue;
            }
            changes++;
            if (path.equals("/console/sign-in")) {
                // Before a session exists the form's own double-submit token protects it.
                HttpResponse<String> r = post(path, session, "api_key=" + DEV_KEY);
                if (r.statusCode() != 403 || r.headers().firstValue("set-cookie").orElse("").startsWith("cg_console=")) {
                    failures.add(method + " " + path + " without the sign-in token answered " + r.statusCode());
                }
                continue;
            }
            HttpResponse<String> noToken = send(method, path, session, null, null);
            if (noToken.statusCode() != 403 || !noToken.body().contains("csrf_token_invalid")) {
                failures.add(method + " " + path + " without the token answered " + noToken.statusCode());
            }
            HttpResponse<String> foreign = send(method, path, session, csrf, "http://console.attacker.example");
            if (foreign.statusCode() != 403 || !foreign.body().contains("cross_origin_change")) {
                failures.add(method + " " + path + " from another origin answered " + foreign.statusCode());
            }
        }
        assertTrue(changes >= 5, "the console's changes were found: " + changes);
        assertEquals(List.of(), failures);
        // The session cookie alone does not open the API: /v1 wants the token in its header as well.
        HttpResponse<String> chat = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Cookie", "cg_console=" + session).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\","
                        + "\"content\":\"hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, chat.statusCode(), chat.body());
    }

    // --- helpers

    /** Method and path of every JAX-RS resource method under /console, read from the built classes. */
    private static List<String[]> consoleEndpoints() throws Exception {
        Path classes = Path.of("target/classes");
        List<String[]> endpoints = new ArrayList<>();
        try (var files = Files.walk(classes.resolve("io/cleargate"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".class") && !f.toString().contains("$")).toList()) {
                String name = classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> type = Class.forName(name, false, ConsoleJourneysIT.class.getClassLoader());
                jakarta.ws.rs.Path root = type.getAnnotation(jakarta.ws.rs.Path.class);
                if (root == null) {
                    continue;
                }
                for (var m : type.getDeclaredMethods()) {
                    String verb = m.isAnnotationPresent(jakarta.ws.rs.GET.class) ? "GET"
                            : m.isAnnotationPresent(jakarta.ws.rs.POST.class) ? "POST"
                            : m.isAnnotationPresent(jakarta.ws.rs.PUT.class) ? "PUT"
                            : m.isAnnotationPresent(jakarta.ws.rs.DELETE.class) ? "DELETE"
                            : m.isAnnotationPresent(jakarta.ws.rs.PATCH.class) ? "PATCH" : null;
                    if (verb == null) {
                        continue;
                    }
                    jakarta.ws.rs.Path sub = m.getAnnotation(jakarta.ws.rs.Path.class);
                    String path = (root.value() + (sub == null ? "" : "/" + sub.value())).replaceAll("/+", "/");
                    if (path.startsWith("/console")) {
                        endpoints.add(new String[] {verb, path});
                    }
                }
            }
        }
        return endpoints;
    }

    private static HttpResponse<String> send(String method, String path, String session, String csrf, String origin)
            throws Exception {
        var request = HttpRequest.newBuilder(URI.create(base + path + (csrf == null ? "" : "?_csrf=" + csrf)))
                .header("Cookie", "cg_console=" + session).header("Content-Type", "application/x-www-form-urlencoded")
                .method(method, HttpRequest.BodyPublishers.ofString(""));
        if (origin != null) {
            request.header("Origin", origin);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The navigation offers every entry of {@code shown} and none of {@code hidden}. */
    private static void assertNav(List<String> shown, List<String> hidden) {
        List<String> nav = browser.all("header nav a").stream().map(e -> e.getText()).toList();
        assertTrue(nav.containsAll(shown) && hidden.stream().noneMatch(nav::contains), "navigation " + nav
                + " should show " + shown + " and hide " + hidden);
    }

    private static void ssoSignIn(String user) {
        browser.open(base + "/console/sign-in");
        browser.click("a[href^='/console/sso']");
        browser.waitFor("Keycloak's login form", d -> !d.findElements(org.openqa.selenium.By.id("username")).isEmpty());
        browser.type("#username", user);
        browser.type("#password", KeycloakServer.PASSWORD);
        browser.click("#kc-login");
        browser.waitFor("the console after single sign-on", d -> d.getCurrentUrl().startsWith(base + "/console")
                && !d.getCurrentUrl().contains("/sso/") && !d.findElements(org.openqa.selenium.By.cssSelector("header nav")).isEmpty());
    }

    private static void signOut() {
        browser.open(base + "/console");
        if (!browser.all("form[action^='/console/sign-out'] button").isEmpty()) {
            browser.click("form[action^='/console/sign-out'] button");
            // An API-key session lands on sign-in; a single sign-on session moves on to the realm's logout.
            browser.waitFor("signed out", d -> d.getCurrentUrl().startsWith(keycloak.baseUrl())
                    || d.getCurrentUrl().startsWith(base + "/console/sign-in"));
        }
        browser.driver().manage().deleteAllCookies();
    }

    private static void setDraft(String text) {
        ((org.openqa.selenium.JavascriptExecutor) browser.driver()).executeScript(
                "document.getElementById('content').value = arguments[0];", text);
    }

    private static boolean opaPolicyContains(String marker) {
        try {
            return Files.readString(opa.policies().resolve("cleargate/tenants/acme-eu/rules/rules.rego")).contains(marker);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Process startGateway(int port) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dquarkus.http.port=" + port,
                "-Dcleargate.backends.eu-west-1.kind=openai",
                "-Dcleargate.backends.eu-west-1.base-url=" + upstream.baseUrl(),
                "-Dcleargate.backends.eu-west-1.models=" + MODEL,
                "-Dcleargate.backends.eu-west-1.region=eu-west",
                "-Dcleargate.backends.eu-west-1.jurisdiction=EU",
                "-Dcleargate.policy.url=" + opa.url(),
                "-Dcleargate.policy.token=" + opa.gatewayToken(),
                // The shared test machine can be slow; OPA's answers are still required for every request.
                "-Dcleargate.policy.timeout=5s",
                "-Dcleargate.policy.admin.opa-token=" + opa.adminToken(),
                "-Dcleargate.policy.admin.directory=" + opa.policies(),
                "-Dcleargate.policy.admin.opa-binary=" + OpaServer.opaBinary(),
                "-Dcleargate.moderation.profiles-path=" + opa.policies().resolve("cleargate/moderation/profiles/data.json"),
                "-Dquarkus.oidc.auth-server-url=" + keycloak.issuer(),
                "-Dcleargate.console.sso.enabled=true",
                "-Dcleargate.audit.checkpoint-every=2s",
                "-Dcleargate.dev.create-key=true",
                "-Dcleargate.dev.key=" + DEV_KEY,
                "-Dcleargate.dev.key-file=" + data.resolve("dev-key"),
                "-jar", Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString()));
        var builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(data.resolve("gateway.log").toFile());
        builder.environment().put("CLEARGATE_DATA_DIR", data.toString());
        builder.environment().remove("CLEARGATE_DB_URL");
        builder.environment().remove("CLEARGATE_DB_KIND");
        Process p = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                var r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/live")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return p;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive()) {
                throw new AssertionError("gateway exited with " + p.exitValue() + "; log in " + data);
            }
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new AssertionError("gateway not ready in 180 s; log in " + data);
    }

    private static HttpResponse<String> chat(String bearer, String prompt) throws Exception {
        String body = JSON.writeValueAsString(java.util.Map.of("model", MODEL, "stream", false, "max_tokens", 64,
                "messages", List.of(java.util.Map.of("role", "user", "content", prompt))));
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + bearer).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode getJson(String path, String key) throws Exception {
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static String createKey(String tenant, String name, String role) throws Exception {
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/admin/api-keys"))
                .header("Authorization", "Bearer " + DEV_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\",\"roles\":[\"" + role + "\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).path("key").asText();
    }

    private static HttpResponse<String> get(String path, String session) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Cookie", "cg_console=" + session).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String session, String form) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Cookie", "cg_console=" + session)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in with a key over plain HTTP (the form's own CSRF cookie and field) and returns Set-Cookie headers. */
    private static List<String> signInHeaders(String key) throws Exception {
        var form = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/sign-in")).build(),
                HttpResponse.BodyHandlers.ofString());
        String token = form.headers().allValues("set-cookie").stream().filter(c -> c.startsWith("cg_sign_in="))
                .map(c -> c.substring("cg_sign_in=".length(), c.indexOf(';'))).findFirst().orElseThrow();
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/sign-in"))
                .header("Cookie", "cg_sign_in=" + token).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("_csrf=" + token + "&next=%2Fconsole&api_key="
                        + java.net.URLEncoder.encode(key, StandardCharsets.UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(303, r.statusCode(), r.body());
        return r.headers().allValues("set-cookie");
    }

    private static String sessionFor(String key) throws Exception {
        String c = signInHeaders(key).stream().filter(h -> h.startsWith("cg_console=")).findFirst().orElseThrow();
        return c.substring("cg_console=".length(), c.indexOf(';'));
    }

    private static Path unzip(byte[] zip) throws IOException {
        Path dir = Files.createTempDirectory(data, "evidence");
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                Files.write(dir.resolve(e.getName()), in.readAllBytes());
            }
        }
        return dir;
    }
}
