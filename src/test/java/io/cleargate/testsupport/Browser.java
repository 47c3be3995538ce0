package io.cleargate.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
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
            Path profile = Files.createTempDirectory("cleargate-chromium-");
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1280,1400", "--user-data-dir=" + profile);
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort().build();
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(60));
            Files.createDirectories(SCREENSHOTS);
            return new Browser(driver, profile, Files.readString(axeFile));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
     * Runs axe-core on the page and fails on serious or critical violations; saves a screenshot as
     * {@code name}.png. Returns the number of violations of lower impact, for the report.
     */
    public int check(String name) {
        JavascriptExecutor js = driver;
        js.executeScript(axe);
        Object result = js.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
                + " e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));");
        try {
            JsonNode violations = JSON.readTree(String.valueOf(result));
            List<String> serious = new ArrayList<>();
            for (JsonNode v : violations) {
                String impact = v.path("impact").asText();
                if ("serious".equals(impact) || "critical".equals(impact)) {
                    serious.add(v.path("id").asText() + " (" + impact + "): " + v.path("help").asText() + " at "
                            + v.path("nodes").findValuesAsText("target"));
                }
            }
            Files.write(SCREENSHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
            checked.add(name);
            if (!serious.isEmpty()) {
                throw new AssertionError("accessibility violations on " + name + " (" + driver.getCurrentUrl() + "):\n"
                        + String.join("\n", serious));
            }
            return violations.size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes the browser transferred for the current page and its subresources (Resource Timing). */
    public long transferredBytes() {
        Object n = driver.executeScript("const nav = performance.getEntriesByType('navigation')[0];"
                + "return (nav ? nav.transferSize : 0) + performance.getEntriesByType('resource')"
                + ".reduce((s, r) => s + r.transferSize, 0);");
        return ((Number) n).longValue();
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
        try (var files = Files.walk(profile)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary profile is harmless
        }
    }
}
