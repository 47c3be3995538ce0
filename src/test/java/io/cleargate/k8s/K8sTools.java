package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.cleargate.testsupport.Scratch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs bin/lib/k8s.sh and the tools it installs (kustomize, kubeconform in tools/bin), and parses
 * what they render. Installing is done here, not assumed: the first run on a machine builds the
 * tools from the Go module proxy and fails loudly if it cannot.
 */
final class K8sTools {

    static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path SCRIPT = ROOT.resolve("bin/lib/k8s.sh");
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static volatile boolean prepared;

    private K8sTools() {
    }

    record Result(int exitCode, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }
    }

    /** Installs kustomize and kubeconform and packs the OPA bundle, once per test JVM. */
    static synchronized void prepare() {
        if (prepared) {
            return;
        }
        expectSuccess(run(List.of("bash", SCRIPT.toString(), "install", "kustomize", "kubeconform"), 900));
        expectSuccess(run(List.of("bash", SCRIPT.toString(), "bundle"), 60));
        prepared = true;
    }

    static String render(String overlay) {
        prepare();
        Result result = run(List.of(ROOT.resolve("tools/bin/kustomize").toString(), "build",
                ROOT.resolve("k8s/overlays/" + overlay).toString()), 120);
        expectSuccess(result);
        return result.stdout();
    }

    /** Validates files with kubeconform exactly as bin/lib/k8s.sh does (strict, schemas from the repository). */
    static Result kubeconform(Path manifest) {
        prepare();
        String script = "source \"$1\" && k8s_kubeconform \"$2\"";
        return run(List.of("bash", "-c", script, "k8s", SCRIPT.toString(), manifest.toString()), 120);
    }

    static Result kubeconform(String manifests) {
        try {
            Path file = Scratch.file("cleargate-k8s-", ".yaml");
            try {
                Files.writeString(file, manifests);
                return kubeconform(file);
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every document of a multi-document YAML stream, as JSON trees. */
    static List<JsonNode> documents(String yaml) {
        List<JsonNode> documents = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(yaml)) {
            var iterator = JSON.readValues(parser, JsonNode.class);
            while (iterator.hasNext()) {
                JsonNode document = iterator.next();
                if (document != null && !document.isNull() && !document.isEmpty()) {
                    documents.add(document);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("rendered YAML does not parse", e);
        }
        return documents;
    }

    static Result run(List<String> command, int timeoutSeconds) {
        try {
            Path log = Scratch.file("cleargate-k8s-", ".log");
            try {
                Process process = new ProcessBuilder(command).directory(ROOT.toFile())
                        .redirectErrorStream(false)
                        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                        .start();
                process.getOutputStream().close();
                byte[] stdout = process.getInputStream().readAllBytes();
                if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("timed out after " + timeoutSeconds + "s: " + command);
                }
                String stderr = Files.readString(log);
                return new Result(process.exitValue(), new String(stdout, StandardCharsets.UTF_8), stderr);
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void expectSuccess(Result result) {
        assertEquals(0, result.exitCode(), result.output());
    }
}
