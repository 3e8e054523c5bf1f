package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.agent.ui.ReportPage;
import dev.veriruntime.api.ApiClient;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import dev.veriruntime.verifier.testing.Prerequisites;
import dev.veriruntime.verifier.testing.ScenarioPrograms;
import dev.veriruntime.verifier.testing.TempDirs;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * As root, with the real probe, and Debian's headless Chromium driving the page: the web view of a
 * running agent lists a known process, shows a patched process's MEMORY_CODE failure with the
 * symbol, a package-verified process's package, and a new event within 2 s without a reload; the
 * static report opens with the network unreachable and shows the same chain. Screenshots go to
 * {@code target/webview/}.
 */
class WebViewIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path ARTIFACTS = Path.of("target", "webview");
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static Path work;
  private static Path patchable;
  private static Path patcher;
  private static Path sleeper;
  private static Daemon daemon;
  private static Thread runner;
  private static ApiClient api;

  private final List<Process> started = new ArrayList<>();
  private final List<WebDriver> browsers = new ArrayList<>();

  @BeforeAll
  static void startAgent() throws Exception {
    KernelTests.assumeKernel();
    browserInstalled();
    work = TempDirs.create(Path.of("/tmp"), "veriruntime-webview");
    Path build = Files.createDirectories(work.resolve("build"));
    patchable = ScenarioPrograms.compile(build, "patchable", "patchable", "-g");
    patcher = ScenarioPrograms.compile(build, "patcher", "patcher");
    sleeper = ScenarioPrograms.compile(build, "sleeper", "webview-sleeper");
    Path manifest = work.resolve("trusted.intoto.json");
    Files.write(
        manifest, new ManifestBuilder(ManifestPredicate.TYPE).add(patchable).build().toJsonBytes());
    ReferenceStore references =
        new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED)
            .loadAll(List.of(manifest));
    Policy policy = Policy.defaults();
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    Path state = Files.createDirectories(work.resolve("state"));
    Path socket = work.resolve("api.sock");
    daemon =
        Daemon.start(
            new Daemon.Settings(
                policy, references, true, state, state, true, false, socket, 0, null),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            System.err);
    api = ApiClient.connect(socket);
    runner = new Thread(() -> daemon.run(null), "webview-agent");
    runner.start();
    Files.createDirectories(ARTIFACTS);
  }

  /** CI installs both (.ci/run); elsewhere the test skips, saying what is missing. */
  private static void browserInstalled() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER);
    Prerequisites.require(
        "chromium and chromium-driver",
        present
            ? Optional.empty()
            : Optional.of("not installed (apt-get install chromium chromium-driver)"));
  }

  @AfterAll
  static void stopAgent() throws Exception {
    if (api != null) {
      api.close();
    }
    if (daemon != null) {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }
  }

  @AfterEach
  void cleanUp() {
    browsers.forEach(WebDriver::quit);
    started.forEach(Process::destroyForcibly);
  }

  private WebDriver browser(String... extraArguments) {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1600,1000");
    options.addArguments(extraArguments);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
    WebDriver driver = new ChromeDriver(service, options);
    browsers.add(driver);
    return driver;
  }

  private Process start(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    started.add(p);
    return p;
  }

  private static String[] ready(Process p) throws IOException {
    String line =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    assertThat(line).as("ready line of " + p.pid()).startsWith("ready " + p.pid());
    return line.split(" ");
  }

  /** A running copy of the patchable program whose code the patcher overwrote in memory. */
  private Process patched() throws Exception {
    Path victim =
        Files.copy(patchable, work.resolve("patched-victim"), StandardCopyOption.REPLACE_EXISTING);
    Process target = start(victim.toString());
    String address = ready(target)[2];
    Process patching = start(patcher.toString(), "procmem", Long.toString(target.pid()), address);
    assertThat(patching.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(patching.exitValue()).as("patch succeeded").isZero();
    return target;
  }

  private static void screenshot(WebDriver driver, String name) throws IOException {
    Path file = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
    Files.copy(file, ARTIFACTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }

  private static WebElement row(WebDriver driver, long pid) {
    return new WebDriverWait(driver, WAIT)
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(".row[data-pid='" + pid + "']")));
  }

  @Test
  void thePageShowsTheTreeTheChainsAndLiveEvents() throws Exception {
    Process sleep = start("/usr/bin/sleep", "300");
    Process target = patched();
    WebDriver driver = browser();
    driver.get(daemon.uiUrl().orElseThrow());

    // The tree lists a known pid.
    WebElement sleepRow = row(driver, sleep.pid());
    assertThat(sleepRow.getText()).contains(Long.toString(sleep.pid()), "sleep");
    screenshot(driver, "tree.png");

    // A patched process: MEMORY_CODE failed, with the symbol.
    row(driver, target.pid()).click();
    WebElement code =
        new WebDriverWait(driver, WAIT)
            .until(
                ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("#details tr[data-scope='MEMORY_CODE'][data-status='FAILED']")));
    assertThat(code.getText()).contains("MEMORY_CODE", "FAILED");
    assertThat(driver.findElement(By.id("details")).getText())
        .contains("CODE_MODIFIED", "symbol=patch_target");
    assertThat(driver.findElement(By.cssSelector("#chain svg")).getText())
        .contains("MEMORY_CODE FAILED", "symbol patch_target", "unsigned reference");
    screenshot(driver, "chain-patched.png");

    // A package-verified process: its package, version and md5sums line.
    row(driver, sleep.pid()).click();
    new WebDriverWait(driver, WAIT)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("vouched-by"), "package coreutils"));
    assertThat(driver.findElement(By.cssSelector("#chain svg")).getText())
        .contains("package coreutils", "md5sums: ", "usr/bin/sleep");
    screenshot(driver, "chain-package.png");

    // A new event appears within 2 s, without a reload.
    new WebDriverWait(driver, WAIT)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(By.id("live-status"), "connected"));
    Instant before = Instant.now();
    Process unknown = start(sleeper.toString());
    By event = By.xpath("//ul[@id='events']/li[@data-pid='" + unknown.pid() + "']");
    new WebDriverWait(driver, Duration.ofSeconds(2))
        .until(ExpectedConditions.presenceOfElementLocated(event));
    long millis = Duration.between(before, Instant.now()).toMillis();
    assertThat(driver.findElement(event).getText())
        .contains("UNKNOWN_EXECUTION", sleeper.toString());
    System.err.printf("webview: new event shown %d ms after the exec%n", millis);
    screenshot(driver, "live-event.png");
  }

  @Test
  void theStaticReportOpensWithTheNetworkUnreachableAndShowsTheSameChain() throws Exception {
    Process target = patched();
    JsonNode verdict = api.verifyProcess((int) target.pid());
    Path report = ARTIFACTS.resolve("report-patched.html").toAbsolutePath();
    Files.writeString(report, ReportPage.render(verdict, List.of(), "test report", Instant.now()));
    // Every request would go to a closed port, and no name resolves.
    WebDriver driver =
        browser("--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND");
    driver.get(report.toUri().toString());
    WebElement svg =
        new WebDriverWait(driver, WAIT)
            .until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#chain svg")));
    assertThat(svg.getText())
        .contains("process " + target.pid(), "MEMORY_CODE FAILED", "symbol patch_target");
    assertThat(
            driver.findElement(By.cssSelector("#details tr[data-scope='MEMORY_CODE']")).getText())
        .contains("FAILED");
    screenshot(driver, "report-patched.png");
  }

  /**
   * Not a timing assertion (timings belong in benchmarks): with 500 more processes the tree lists
   * every one of them; the load time is printed for the record.
   */
  @Test
  void theTreeListsFiveHundredMoreProcesses() throws Exception {
    List<Process> sleepers = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      Process p = start("/usr/bin/sleep", "300");
      sleepers.add(p);
    }
    WebDriver driver = browser();
    long t0 = System.nanoTime();
    driver.get(daemon.uiUrl().orElseThrow());
    row(driver, sleepers.get(sleepers.size() - 1).pid());
    long loadMillis = (System.nanoTime() - t0) / 1_000_000;
    for (Process p : sleepers) {
      assertThat(driver.findElements(By.cssSelector(".row[data-pid='" + p.pid() + "']")))
          .hasSize(1);
    }
    String count = driver.findElement(By.id("tree")).getAttribute("data-count");
    String pageMillis = driver.findElement(By.tagName("body")).getAttribute("data-loaded-ms");
    Object stateFetch =
        ((JavascriptExecutor) driver)
            .executeScript(
                "return performance.getEntriesByType('resource')"
                    + ".filter(e => e.name.includes('/api/state')).map(e => Math.round(e.duration))");
    long t1 = System.nanoTime();
    api.listRuntimeState();
    long socketMillis = (System.nanoTime() - t1) / 1_000_000;
    System.err.printf(
        "webview: %s processes listed; page loaded in %d ms (in-page %s ms, of which /api/state %s ms);"
            + " ListRuntimeState over the socket %d ms; loadavg %s%n",
        count,
        loadMillis,
        pageMillis,
        stateFetch,
        socketMillis,
        Files.readString(Path.of("/proc/loadavg")).strip());
    screenshot(driver, "tree-500.png");
  }
}
