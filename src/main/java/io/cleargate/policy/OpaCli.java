package io.cleargate.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the opa binary on a temporary copy of a policy tree: compile check, tests and a batch
 * evaluation of the decision for a what-if. The copy is deleted afterwards; the live OPA is never
 * touched.
 *
 * <p>Drafts are code written by administrators, so every run is sandboxed: OPA compiles them
 * against {@code opa/capabilities.json} (no network, runtime, environment, time or randomness
 * built-ins; no host allowed), and the child process starts with an empty environment, so even a
 * built-in the capabilities missed finds none of the gateway's secrets there.
 */
public final class OpaCli {

    /** A compile error, located in the draft's own file and line. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record CompileError(String file, int row, int col, String code, String message) {}

    /** A failing or erroring policy test. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TestFailure(String file, int row, @JsonProperty("package") String pkg, String name, String error) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TestReport(boolean passed, int total, List<TestFailure> failures, String diagnostics) {}

    /** A module's package and every {@code data} reference it makes (imports and rule bodies). */
    public record ModuleFacts(List<String> packagePath, List<List<String>> dataRefs) {
        /** A reference segment that is computed at evaluation time (data[x]). */
        public static final String DYNAMIC = "\u0000dynamic";
    }

    /** The sandbox capabilities, packaged with the gateway. */
    public static final String CAPABILITIES_RESOURCE = "/opa/capabilities.json";

    private final Path opa;
    private final Duration timeout;
    private final ObjectMapper json;
    private final Path capabilities;

    public OpaCli(Path opa, Duration timeout, ObjectMapper json) {
        this(opa, timeout, json, extractCapabilities());
    }

    /** With another capabilities file: tests use OPA's full set to show what the environment alone hides. */
    OpaCli(Path opa, Duration timeout, ObjectMapper json, Path capabilities) {
        this.opa = opa;
        this.timeout = timeout;
        this.json = json;
        this.capabilities = capabilities;
    }

    public List<CompileError> check(Map<String, String> tree) {
        return withCopy(tree, dir -> {
            Result r = run(dir, List.of("check", "--format", "json", "--capabilities", capabilities.toString(), "."));
            if (r.exit() == 0) {
                return List.of();
            }
            return compileErrors(r.stderr().isBlank() ? r.stdout() : r.stderr());
        });
    }

    /** The tree with every Rego module in opa fmt's canonical form (so policies/ stays fmt-clean). */
    public Map<String, String> format(Map<String, String> tree) {
        return withCopy(tree, dir -> {
            Result r = run(dir, List.of("fmt", "-w", "."));
            if (r.exit() != 0) {
                throw new IllegalStateException("opa fmt failed: " + firstLine(r.stderr() + r.stdout()));
            }
            return PolicyTree.read(dir);
        });
    }

    public TestReport test(Map<String, String> tree) {
        return withCopy(tree, dir -> {
            Result r = run(dir, List.of("test", "--format", "json", "--capabilities", capabilities.toString(), "."));
            List<?> results;
            try {
                results = json.readValue(r.stdout(), List.class);
            } catch (IOException e) {
                // opa test prints compile errors instead of results when the draft does not compile
                String diagnostics = r.stderr().isBlank() ? r.stdout() : r.stderr();
                return new TestReport(false, 0, List.of(), diagnostics.strip());
            }
            List<TestFailure> failures = new ArrayList<>();
            for (Object o : results) {
                Map<?, ?> t = (Map<?, ?>) o;
                boolean failed = Boolean.TRUE.equals(t.get("fail")) || t.get("error") != null;
                if (failed) {
                    Map<?, ?> loc = t.get("location") instanceof Map<?, ?> m ? m : Map.of();
                    failures.add(new TestFailure(String.valueOf(loc.get("file")), number(loc.get("row")),
                            String.valueOf(t.get("package")), String.valueOf(t.get("name")),
                            t.get("error") == null ? null : String.valueOf(t.get("error"))));
                }
            }
            return new TestReport(r.exit() == 0 && failures.isEmpty(), results.size(), failures, "");
        });
    }

    /**
     * Evaluates data.cleargate.decision for each input in one opa process, in order. A decision that
     * is undefined for an input comes back as null.
     */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> decide(Map<String, String> tree, List<Map<String, Object>> inputs) {
        return withCopy(tree, dir -> {
            Path inputFile = Files.createTempFile("cleargate-whatif-", ".json");
            try {
                Files.writeString(inputFile, json.writeValueAsString(Map.of("inputs", inputs)));
                // The helper turns an undefined decision into null so results line up with the inputs.
                Path helper = dir.resolve("cleargate_whatif_helper.rego");
                Files.writeString(helper, """
                        package cleargate_whatif

                        default decision := null

                        decision := data.cleargate.decision
                        """);
                Result r = run(dir, List.of("eval", "--format", "json", "--capabilities", capabilities.toString(),
                        "--data", ".", "--input",
                        inputFile.toString(), "[d | some x in input.inputs; d := data.cleargate_whatif.decision with input as x]"));
                if (r.exit() != 0) {
                    throw new IllegalStateException("opa eval failed: " + firstLine(r.stderr() + r.stdout()));
                }
                Map<String, Object> out = json.readValue(r.stdout(), Map.class);
                List<Map<String, Object>> result = (List<Map<String, Object>>) out.get("result");
                Map<String, Object> first = result.getFirst();
                List<Map<String, Object>> expressions = (List<Map<String, Object>>) first.get("expressions");
                return (List<Map<String, Object>>) expressions.getFirst().get("value");
            } finally {
                Files.deleteIfExists(inputFile);
            }
        });
    }

    /** The value of one data document of the tree, for example {@code data.cleargate.tenants}; null when undefined. */
    @SuppressWarnings("unchecked")
    public Object data(Map<String, String> tree, String ref) {
        if (!ref.matches("data(\\.[a-z_][a-z0-9_]*)+")) {
            throw new IllegalArgumentException("not a plain data reference: " + ref);
        }
        return withCopy(tree, dir -> {
            Result r = run(dir, List.of("eval", "--format", "json", "--data", ".", ref));
            if (r.exit() != 0) {
                throw new IllegalStateException("opa eval failed: " + firstLine(r.stderr() + r.stdout()));
            }
            Map<String, Object> out = json.readValue(r.stdout(), Map.class);
            if (!(out.get("result") instanceof List<?> result) || result.isEmpty()) {
                return null;
            }
            List<Map<String, Object>> expressions = (List<Map<String, Object>>) ((Map<String, Object>) result.getFirst())
                    .get("expressions");
            return expressions.getFirst().get("value");
        });
    }

    /**
     * The package and data references of one Rego module, as OPA's own parser reads them, so that
     * no spelling of a package ({@code system.authz}, {@code system["authz"]}, ...) escapes a check.
     * Null when the module does not parse (the compile check reports where).
     */
    public ModuleFacts inspect(String path, String module) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        return withCopy(Map.of(name, module), dir -> {
            Result r = run(dir, List.of("parse", "--format", "json", name));
            if (r.exit() != 0) {
                return null;
            }
            JsonNode ast = json.readTree(r.stdout());
            List<String> pkg = segments(ast.path("package").path("path"));
            List<List<String>> refs = new ArrayList<>();
            collectDataRefs(ast.path("imports"), refs);
            collectDataRefs(ast.path("rules"), refs);
            return new ModuleFacts(pkg.subList(Math.min(1, pkg.size()), pkg.size()), refs);
        });
    }

    private static List<String> segments(JsonNode terms) {
        List<String> out = new ArrayList<>();
        for (JsonNode t : terms) {
            String type = t.path("type").asText();
            out.add("string".equals(type) || "var".equals(type) ? t.path("value").asText() : ModuleFacts.DYNAMIC);
        }
        return out;
    }

    private static void collectDataRefs(JsonNode node, List<List<String>> out) {
        if (node.isObject()) {
            JsonNode value = node.path("value");
            if ("ref".equals(node.path("type").asText()) && value.isArray() && !value.isEmpty()
                    && "var".equals(value.get(0).path("type").asText()) && "data".equals(value.get(0).path("value").asText())) {
                List<String> ref = segments(value);
                // data.a.b[x]: only the leading constant segments name a document; a var after data is dynamic
                for (int i = 1; i < ref.size(); i++) {
                    if ("var".equals(value.get(i).path("type").asText())) {
                        ref.set(i, ModuleFacts.DYNAMIC);
                    }
                }
                out.add(ref.subList(1, ref.size()));
            }
            node.elements().forEachRemaining(child -> collectDataRefs(child, out));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(child -> collectDataRefs(child, out));
        }
    }

    private static Path extractCapabilities() {
        try (var in = OpaCli.class.getResourceAsStream(CAPABILITIES_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CAPABILITIES_RESOURCE + " is missing from the gateway");
            }
            Path file = Files.createTempFile("cleargate-opa-capabilities-", ".json");
            file.toFile().deleteOnExit();
            Files.write(file, in.readAllBytes());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the OPA capabilities file", e);
        }
    }

    private interface InDir<T> {
        T apply(Path dir) throws IOException;
    }

    private <T> T withCopy(Map<String, String> tree, InDir<T> action) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("cleargate-policy-draft-");
            PolicyTree.writeAll(dir, tree);
            return action.apply(dir);
        } catch (IOException e) {
            // Policy administration answers 503 policy_unavailable naming the cause (opa missing, disk full).
            throw new IllegalStateException(e.getMessage(), e);
        } finally {
            if (dir != null) {
                deleteQuietly(dir);
            }
        }
    }

    private record Result(int exit, String stdout, String stderr) {}

    private Result run(Path dir, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(opa.toString());
        command.addAll(args);
        Path out = Files.createTempFile("cleargate-opa-", ".out");
        Path err = Files.createTempFile("cleargate-opa-", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            // Nothing of the gateway's environment (keys, database password) reaches a draft.
            builder.environment().clear();
            Process p = builder.start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("opa " + args.getFirst() + " did not finish within " + timeout);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running opa " + args.getFirst());
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IOException("cannot run " + opa + " (is OPA installed? bin/cleargate installs it)", e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private List<CompileError> compileErrors(String output) {
        try {
            Map<?, ?> parsed = json.readValue(output, Map.class);
            List<CompileError> errors = new ArrayList<>();
            for (Object o : (List<?>) parsed.get("errors")) {
                Map<?, ?> e = (Map<?, ?>) o;
                Map<?, ?> loc = e.get("location") instanceof Map<?, ?> m ? m : Map.of();
                String file = loc.get("file") == null ? null : String.valueOf(loc.get("file")).replaceFirst("^\\./", "");
                errors.add(new CompileError(file, number(loc.get("row")), number(loc.get("col")),
                        String.valueOf(e.get("code")), String.valueOf(e.get("message"))));
            }
            return errors;
        } catch (IOException | RuntimeException e) {
            return List.of(new CompileError(null, 0, 0, "opa_check_failed", firstLine(output)));
        }
    }

    private static int number(Object o) {
        return o instanceof Number n ? n.intValue() : 0;
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temp directory is harmless
        }
    }
}
