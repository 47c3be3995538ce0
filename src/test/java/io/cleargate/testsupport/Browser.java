package io.cleargate.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.SessionNotCreatedException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, with a fresh
 * profile. Installs what it needs through bin/lib/console.sh when missing (the packages and
 * axe-core), so a test never skips. {@link #check(String)} runs axe-core inside the page and fails
 * on any serious or critical violation, and saves a screenshot of the page under
 * target/console-screenshots.
 */
public final class Browser implements AutoCloseable {

    public static final Path SCREENSHOTS = Path.of("target/console-screenshots");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The bound for one page with everything it loads. */
    public static final long MAX_PAGE_BYTES = 300 * 1024;

    private final ChromeDriver driver;
    private final Path profile;
    private final String axe;
    /** Every page checked, for the test's report. */
    public final List<String> checked = new ArrayList<>();

    private Browser(ChromeDriver driver, Path profile, String axe) {
        this.driver = driver;
        this.profile = profile;
        this.axe = axe;
    }

    public static Browser start() {
        Path root = OpaServer.repoRoot();
        Path axeFile = root.resolve("tools/axe/node_modules/axe-core/axe.min.js");
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER) || !Files.isRegularFile(axeFile)) {
            install(root);
        }
        try {
            Files.createDirectories(SCREENSHOTS);
            String axe = Files.readString(axeFile);
            try {
                return launch(axe, 1);
            } catch (SessionNotCreatedException first) {
                // One more try: a start that only lost a race against a loaded machine succeeds
                // now; anything else fails again, with chromedriver's log on disk.
                return launch(axe, 2);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts chromedriver and a headless Chromium with a profile of its own. Selenium waits only
     * 20 s by default for chromedriver to answer; on this shared machine under a whole-suite load a
     * fresh chromedriver has needed longer than that (the suite's "Timed out waiting for driver
     * server to bind the port"), so it gets two minutes, and its log goes to target/.
     */
    private static Browser launch(String axe, int attempt) throws IOException {
        Path profile = Scratch.dir("cleargate-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // --no-sandbox: the suite runs as root in a container, where Chromium's sandbox cannot start;
        // --disable-dev-shm-usage: a small /dev/shm would crash renderers.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps", "--no-first-run", "--no-default-browser-check",
                "--mute-audio", "--window-size=1280,1400", "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, java.util.logging.Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withTimeout(Duration.ofMinutes(2))
                .withLogFile(Path.of("target", "chromedriver-" + attempt + ".log").toAbsolutePath().toFile())
                .build();
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(60));
            return new Browser(driver, profile, axe);
        } catch (RuntimeException e) {
            service.stop();
            deleteTree(profile);
            throw e;
        }
    }

    private static void install(Path root) {
        try {
            Process p = new ProcessBuilder("bash", "-c", "source bin/lib/console.sh && console_browser_install \"$PWD\"")
                    .directory(root.toFile()).inheritIO().start();
            if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("bin/lib/console.sh could not install chromium or axe-core");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public WebDriver driver() {
        return driver;
    }

    public void open(String url) {
        driver.get(url);
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    public String text(String css) {
        return find(css).getText();
    }

    public void type(String css, String text) {
        WebElement e = find(css);
        e.clear();
        e.sendKeys(text);
    }

    public void click(String css) {
        find(css).click();
    }

    /** Waits up to 90 s; on a timeout the failure names the page the browser shows, and keeps its screenshot. */
    public void waitFor(String what, java.util.function.Function<WebDriver, Boolean> condition) {
        try {
            new WebDriverWait(driver, Duration.ofSeconds(90)).withMessage(what).until(condition);
        } catch (org.openqa.selenium.TimeoutException e) {
            String body = driver.findElement(By.tagName("body")).getText();
            try {
                Files.write(SCREENSHOTS.resolve("failed-" + what.replaceAll("[^a-z]+", "-") + ".png"),
                        driver.getScreenshotAs(OutputType.BYTES));
            } catch (IOException ignored) {
                // the message below is what matters
            }
            throw new AssertionError("waited for " + what + " at " + driver.getCurrentUrl() + "; the page reads:\n"
                    + body.substring(0, Math.min(2000, body.length())), e);
        }
    }

    public String url() {
        return driver.getCurrentUrl();
    }

    /** The value of a cookie the browser holds for the current site, or null. */
    public String cookie(String name) {
        var c = driver.manage().getCookieNamed(name);
        return c == null ? null : c.getValue();
    }

    /**
     * Checks the page against the console's quality bar and saves a screenshot as {@code name}.png:
     * nothing the Content-Security-Policy would need {@code unsafe-inline} for (inline scripts,
     * styles or event handlers), no request and no link, form or embed to another origin, at most
     * {@link #MAX_PAGE_BYTES} transferred for the page and its assets, every control reachable
     * with the Tab key, no script error or policy violation in the browser's log, and no serious
     * or critical axe-core violation (which includes WCAG AA contrast). Returns the number of
     * violations of lower impact, for the report.
     */
    public int check(String name) {
        JavascriptExecutor js = driver;
        List<String> problems = new ArrayList<>();
        problems.addAll(strings(js.executeScript(PAGE_PROBLEMS)));
        long bytes = pageBytes();
        if (bytes > MAX_PAGE_BYTES) {
            problems.add("the page and its assets weigh " + bytes + " bytes, over " + MAX_PAGE_BYTES);
        }
        try {
            // The screenshot first: the keyboard walk below moves focus and scrolls.
            Files.write(SCREENSHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        problems.addAll(unreachableByKeyboard());
        problems.addAll(logProblems());
        js.executeScript(axe);
        Object result = js.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
                + " e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));");
        try {
            JsonNode violations = JSON.readTree(String.valueOf(result));
            for (JsonNode v : violations) {
                String impact = v.path("impact").asText();
                if ("serious".equals(impact) || "critical".equals(impact)) {
                    problems.add(v.path("id").asText() + " (" + impact + "): " + v.path("help").asText() + " at "
                            + v.path("nodes").findValuesAsText("target"));
                }
            }
            Files.writeString(SCREENSHOTS.resolve("pages.tsv"), name + "\t" + bytes + "\t"
                    + java.util.stream.StreamSupport.stream(violations.spliterator(), false).map(v -> v.path("id").asText()).toList() + "\t" + driver.getCurrentUrl() + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            checked.add(name);
            if (!problems.isEmpty()) {
                throw new AssertionError("the page " + name + " (" + driver.getCurrentUrl() + ") fails the quality bar:\n"
                        + String.join("\n", problems));
            }
            return violations.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What in the page would need unsafe-inline, or reaches another origin. */
    private static final String PAGE_PROBLEMS = """
            const problems = [];
            const origin = location.origin;
            document.querySelectorAll('script:not([src]), style').forEach(e =>
              problems.push('inline <' + e.tagName.toLowerCase() + '>'));
            document.querySelectorAll('*').forEach(e => {
              for (const a of e.attributes) {
                if (a.name === 'style' || a.name.startsWith('on')) {
                  problems.push('inline ' + a.name + ' on <' + e.tagName.toLowerCase() + '>');
                }
              }
            });
            const refs = [['a', 'href'], ['link', 'href'], ['script', 'src'], ['img', 'src'], ['iframe', 'src'],
              ['form', 'action'], ['source', 'src'], ['object', 'data'], ['embed', 'src']];
            for (const [tag, attr] of refs) {
              document.querySelectorAll(tag + '[' + attr + ']').forEach(e => {
                const url = new URL(e.getAttribute(attr), location.href);
                if (url.protocol !== 'data:' && url.origin !== origin) {
                  problems.push('<' + tag + ' ' + attr + '=' + url.href + '> leaves the origin');
                }
              });
            }
            for (const r of performance.getEntriesByType('resource')) {
              if (!r.name.startsWith(origin + '/') && !r.name.startsWith('data:')) {
                problems.push('request to ' + r.name + ' left the origin');
              }
            }
            return problems;""";

    /**
     * Bytes of the page and every asset it loaded: the transferred size, or the body size when the
     * asset came from the cache (so a page counts its stylesheet and script even on a second visit).
     */
    public long pageBytes() {
        Object n = driver.executeScript("return performance.getEntriesByType('navigation')"
                + ".concat(performance.getEntriesByType('resource'))"
                + ".reduce((s, r) => s + Math.max(r.transferSize, r.encodedBodySize), 0);");
        return ((Number) n).longValue();
    }

    /**
     * Presses Tab through the page from its first control (the skip link) and names every visible
     * control that focus never reached.
     */
    private List<String> unreachableByKeyboard() {
        Object count = driver.executeScript("""
                window.__cgFocused = new Set();
                document.addEventListener('focusin', e => window.__cgFocused.add(e.target), true);
                const first = document.querySelector('a[href], button, input, select, textarea');
                if (first) first.focus();
                return document.querySelectorAll('a[href], button, input, select, textarea, summary').length;""");
        int presses = 2 * ((Number) count).intValue() + 20;
        var keys = new org.openqa.selenium.interactions.Actions(driver);
        for (int i = 0; i < presses; i++) {
            keys.sendKeys(org.openqa.selenium.Keys.TAB);
        }
        keys.perform();
        return strings(driver.executeScript("""
                const missed = [];
                document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')
                  .forEach(e => {
                    if (e.disabled || !e.checkVisibility() || window.__cgFocused.has(e)) return;
                    missed.push('not reachable with Tab: <' + e.tagName.toLowerCase() + '> '
                      + (e.id || e.getAttribute('name') || e.textContent.trim().slice(0, 40)));
                  });
                // Leave the page as it loaded: the next Tab starts again from the top.
                const top = document.querySelector('a[href], button, input, select, textarea');
                if (top) { top.focus(); top.blur(); }
                window.scrollTo(0, 0);
                return missed;"""));
    }

    /** Script errors and Content-Security-Policy refusals the browser logged since the last look. */
    private List<String> logProblems() {
        List<String> problems = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            String m = entry.getMessage();
            if (m.contains("Content Security Policy") || m.contains("Uncaught") || m.contains("Refused to")) {
                problems.add("browser log: " + m);
            }
        }
        return problems;
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object result) {
        return result == null ? List.of() : ((List<Object>) result).stream().map(String::valueOf).toList();
    }

    /**
     * Runs {@code steps} with the page's scripts switched off (DevTools emulation, kept across
     * navigations), as a browser without JavaScript would see the console; switches them back on.
     */
    public void withoutJavaScript(Runnable steps) {
        driver.executeCdpCommand("Emulation.setScriptExecutionDisabled", java.util.Map.of("value", true));
        try {
            steps.run();
        } finally {
            driver.executeCdpCommand("Emulation.setScriptExecutionDisabled", java.util.Map.of("value", false));
        }
    }

    /** Moves focus with the Tab key until {@code css} has it; fails after {@code max} presses. */
    public void tabTo(String css, int max) {
        WebElement target = find(css);
        var body = driver.findElement(By.tagName("body"));
        for (int i = 0; i < max; i++) {
            if (target.equals(driver.switchTo().activeElement())) {
                return;
            }
            driver.switchTo().activeElement().sendKeys(org.openqa.selenium.Keys.TAB);
        }
        if (!target.equals(driver.switchTo().activeElement())) {
            throw new AssertionError(css + " cannot be reached with the keyboard in " + max + " tab presses"
                    + " (focus ends on " + body.getTagName() + ")");
        }
    }

    @Override
    public void close() {
        driver.quit();
        deleteTree(profile);
    }

    private static void deleteTree(Path profile) {
        try (var files = Files.walk(profile)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary profile is harmless
        }
    }
}
