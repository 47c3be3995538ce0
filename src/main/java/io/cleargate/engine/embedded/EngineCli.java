package io.cleargate.engine.embedded;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.engine.embedded.model.Bandwidth;
import io.cleargate.engine.embedded.model.Kernels;
import io.cleargate.engine.embedded.model.Model;
import io.cleargate.engine.embedded.model.Session;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Command line access to the embedded engine, for checking any checkpoint from outside:
 * <pre>
 *   logits   --model DIR --ids 0,17,42 [--naive]      -> {"logits": [[...], ...]} one row per position
 *   generate --model DIR --ids 0,17,42 --max-tokens N -> {"ids": [...]} greedy, no EOS stop
 *   chat     --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--seed S]  -> streamed text
 *   bench    --model DIR [--prompt-tokens P] [--decode-tokens N] [--probe-bytes B]
 *            [--repetitions R] [--warmup-repetitions auto|N] [--int8] [--rounds-on-stdin]
 *            -> {"prefill_tok_s":..,"decode_tok_s":..,"read_bandwidth_gb_s":..,"decode_fraction_of_bound":..} (one per round)
 *   perplexity --model DIR --text FILE [--max-tokens N] -> perplexity as stored vs int8 weights, top-1 agreement
 * </pre>
 */
public final class EngineCli {

    private EngineCli() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage();
        }
        Map<String, String> opts = options(Arrays.copyOfRange(args, 1, args.length));
        PrintStream out = System.out;
        switch (args[0]) {
            case "logits" -> {
                try (Model model = Model.load(Path.of(required(opts, "model")))) {
                    List<Integer> ids = ids(required(opts, "ids"));
                    Session s = model.newSession(ids.size(), opts.containsKey("naive") ? Session.Form.NAIVE : Session.Form.ABSORBED);
                    StringBuilder json = new StringBuilder("{\"logits\": [");
                    for (int i = 0; i < ids.size(); i++) {
                        float[] logits = model.forward(s, ids.get(i), true);
                        json.append(i == 0 ? "[" : ", [");
                        for (int v = 0; v < logits.length; v++) {
                            if (v > 0) {
                                json.append(", ");
                            }
                            json.append(logits[v]);
                        }
                        json.append(']');
                    }
                    out.println(json.append("]}"));
                }
            }
            case "generate" -> {
                try (Model model = Model.load(Path.of(required(opts, "model")))) {
                    List<Integer> ids = ids(required(opts, "ids"));
                    int max = Integer.parseInt(opts.getOrDefault("max-tokens", "16"));
                    Session s = model.newSession(ids.size() + max, Session.Form.ABSORBED);
                    out.println("{\"ids\": " + Generator.greedy(model, s, ids, max) + "}");
                }
            }
            case "chat" -> chat(opts, out);
            case "bench" -> bench(opts, out);
            case "perplexity" -> perplexity(opts, out);
            default -> usage();
        }
    }

    private static void chat(Map<String, String> opts, PrintStream out) throws Exception {
        try (EmbeddedEngine engine = EmbeddedEngine.load(Path.of(required(opts, "model")), EmbeddedEngine.Options.defaults())) {
            EngineRequest request = new EngineRequest("cli", List.of(new ChatMessage(ChatMessage.Role.USER, required(opts, "prompt"))),
                    Integer.parseInt(opts.getOrDefault("max-tokens", "64")),
                    Double.parseDouble(opts.getOrDefault("temperature", "0")), 1.0, List.of(),
                    opts.containsKey("seed") ? Long.parseLong(opts.get("seed")) : null);
            try (EngineStream stream = engine.open(request)) {
                while (stream.next() instanceof EngineEvent.Delta delta) {
                    out.print(delta.text());
                    out.flush();
                }
            }
            out.println();
        }
    }

    /**
     * Prefill and decode speed of the absorbed path (one sequence, the engine's threads), the read
     * bandwidth of the same threads, and decode as a fraction of the bound that bandwidth sets.
     */
    private static void bench(Map<String, String> opts, PrintStream out) {
        Model.WeightMode mode = opts.containsKey("int8") ? Model.WeightMode.INT8 : Model.WeightMode.AS_STORED;
        try (Model model = Model.load(Path.of(required(opts, "model")), mode)) {
            int promptTokens = Integer.parseInt(opts.getOrDefault("prompt-tokens", "64"));
            int decodeTokens = Integer.parseInt(opts.getOrDefault("decode-tokens", "64"));
            int vocab = model.config().vocabSize();
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) {
                prompt[i] = (i * 7919 + 13) % vocab;
            }
            // Warm-up runs so the JIT has compiled the kernels.
            for (int w = 0; w < 3; w++) {
                Session warm = model.newSession(prompt.length + 8, Session.Form.ABSORBED);
                Generator.greedy(model, warm, java.util.Arrays.stream(prompt).boxed().toList(), 8);
            }
            // Then prefills alone, and whole repetitions, until the JIT is quiet (see QUIET_JIT_MS):
            // compilations that land in a measured repetition take CPU from the engine's threads,
            // which wait for each other.
            var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            String warmupOpt = opts.getOrDefault("warmup-repetitions", "auto");
            int prefillWarmups = 0;
            long prefillWarmupJitMs = jit.getTotalCompilationTime();
            for (int quiet = 0; warmupOpt.equals("auto") && (prefillWarmups < MIN_PREFILL_WARMUPS || quiet < QUIET_PREFILLS)
                    && prefillWarmups < MAX_PREFILL_WARMUPS; prefillWarmups++) {
                long c0 = jit.getTotalCompilationTime();
                model.prefill(model.newSession(prompt.length, Session.Form.ABSORBED), prompt);
                quiet = jit.getTotalCompilationTime() - c0 <= QUIET_JIT_MS ? quiet + 1 : 0;
            }
            prefillWarmupJitMs = jit.getTotalCompilationTime() - prefillWarmupJitMs;
            System.err.printf("bench: %d prefills alone to warm up, %d ms of JIT in them%n", prefillWarmups, prefillWarmupJitMs);
            int warmups = 0;
            for (int quiet = 0; warmupOpt.equals("auto")
                    ? (warmups < MIN_WARMUP_REPETITIONS || quiet < QUIET_REPETITIONS) && warmups < MAX_WARMUP_REPETITIONS
                    : warmups < Integer.parseInt(warmupOpt); warmups++) {
                long c0 = jit.getTotalCompilationTime();
                long[] t = repetition(model, prompt, decodeTokens);
                long jitMs = jit.getTotalCompilationTime() - c0;
                boolean isQuiet = jitMs <= QUIET_JIT_MS;
                quiet = isQuiet ? quiet + 1 : 0;
                progress("warm-up", warmups, t, jitMs, promptTokens, decodeTokens);
            }
            if (warmupOpt.equals("auto")) {
                settleCompilations(jit);
            }
            int repetitions = Integer.parseInt(opts.getOrDefault("repetitions", "3"));
            // The probe reads a buffer as large as the model's weights: decode streams them from wherever
            // they fit (a large L3 holds a small model), so that is the bandwidth that bounds it.
            long probeBytes = Long.parseLong(opts.getOrDefault("probe-bytes", String.valueOf(Math.max(64L << 20, model.totalWeightBytes()))));
            Warmups warm = new Warmups(prefillWarmups, warmups);
            if (!opts.containsKey("rounds-on-stdin")) {
                Measured m = measure(model, prompt, decodeTokens, repetitions, jit);
                double idleCpu = idleCpuMillisPerSecond();
                out.println(report(model, m, Bandwidth.readBytesPerSecond(probeBytes, 5), probeBytes, warm, ",\"idle_cpu_ms_per_s\": %.1f".formatted(idleCpu)));
                return;
            }
            rounds(model, prompt, decodeTokens, repetitions, probeBytes, warm, jit, out);
        }
    }

    /**
     * {@code --rounds-on-stdin}: the warmed process measures once per line read from stdin (one
     * repetition not counted, then the repetitions, then the probe) and prints that round's JSON, until
     * stdin ends; "ready" on stdout says the warm-up is over. bench/engine/ab.sh keeps one such process
     * per arm for a whole precision and alternates them with llama-bench round by round, so the order of
     * the arms can be balanced over many rounds without a JVM start and warm-up (~25 s) in each: with one
     * process per run, whichever Java run came second in its round measured lower in 18 of 20
     * comparisons (engine10).
     */
    private static void rounds(Model model, int[] prompt, int decodeTokens, int repetitions, long probeBytes, Warmups warm,
            java.lang.management.CompilationMXBean jit, PrintStream out) {
        out.println("ready");
        out.flush();
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
        try {
            for (int round = 1; in.readLine() != null; round++) {
                repetition(model, prompt, decodeTokens); // caches and the team's threads warm again after idling
                Measured m = measure(model, prompt, decodeTokens, repetitions, jit);
                out.println(report(model, m, Bandwidth.readBytesPerSecond(probeBytes, 5), probeBytes, warm, ",\"round\": %d".formatted(round)));
                out.flush();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private record Warmups(int prefills, int repetitions) {}

    /** Per-repetition rates of one measurement and the JIT's milliseconds during it. */
    private record Measured(double[] prefillRates, double[] decodeRates, long jitMs) {}

    /** Repetitions on fresh sessions, reported as mean and standard deviation (as llama-bench does). */
    private static Measured measure(Model model, int[] prompt, int decodeTokens, int repetitions,
            java.lang.management.CompilationMXBean jit) {
        int promptTokens = prompt.length;
        double[] prefillRates = new double[repetitions];
        double[] decodeRates = new double[repetitions];
        long jitBefore = jit.getTotalCompilationTime();
        for (int rep = 0; rep < repetitions; rep++) {
            long c0 = jit.getTotalCompilationTime();
            long[] t = repetition(model, prompt, decodeTokens);
            progress("repetition", rep, t, jit.getTotalCompilationTime() - c0, promptTokens, decodeTokens);
            prefillRates[rep] = promptTokens / (t[0] / 1e9);
            decodeRates[rep] = decodeTokens / (t[1] / 1e9);
        }
        return new Measured(prefillRates, decodeRates, jit.getTotalCompilationTime() - jitBefore);
    }

    /** The bench's JSON line; {@code extra} is appended inside the object (a leading comma and fields). */
    private static String report(Model model, Measured m, double bandwidth, long probeBytes, Warmups warm, String extra) {
        double prefill = mean(m.prefillRates());
        double decode = mean(m.decodeRates());
        long active = model.activeWeightBytes(false);
        double bound = bandwidth / active;
        Session naive = model.newSession(1, Session.Form.NAIVE);
        Session absorbed = model.newSession(1, Session.Form.ABSORBED);
        return String.format(java.util.Locale.ROOT, "{\"prefill_tok_s\": %.2f, \"prefill_stddev\": %.2f, \"decode_tok_s\": %.2f, "
                        + "\"decode_stddev\": %.2f, \"repetitions\": %d, \"threads\": %d, \"vector\": %b, "
                        + "\"weights\": \"%s\", \"active_weight_mb_per_token\": %.2f, \"total_weight_mb\": %.1f, "
                        + "\"probe_mb\": %.1f, \"read_bandwidth_gb_s\": %.2f, "
                        + "\"bandwidth_bound_decode_tok_s\": %.2f, \"decode_fraction_of_bound\": %.3f, "
                        + "\"kv_bytes_per_token_absorbed\": %d, \"kv_bytes_per_token_naive\": %d, \"heap_used_mb\": %.1f, "
                        + "\"prefill_warmups\": %d, \"warmup_repetitions\": %d, \"jit_ms_during_repetitions\": %d%s}",
                prefill, stddev(m.prefillRates()), decode, stddev(m.decodeRates()), m.prefillRates().length, Kernels.threads(), Kernels.VECTOR,
                model.weightFormat(), active / 1e6, model.totalWeightBytes() / 1e6, probeBytes / 1e6, bandwidth / 1e9,
                bound, decode / bound,
                absorbed.cacheBytes(), naive.cacheBytes(),
                (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576.0,
                warm.prefills(), warm.repetitions(), m.jitMs(), extra);
    }

    /**
     * Warm-up until the JIT is quiet: at least {@link #MIN_WARMUP_REPETITIONS} whole repetitions, then
     * until {@link #QUIET_REPETITIONS} in a row in which the compilers worked at most
     * {@link #QUIET_JIT_MS} ms, at most {@link #MAX_WARMUP_REPETITIONS}.
     * With the engine's threads on every core, a compilation takes its CPU from a member of the team
     * and the other members wait for it at the next barrier: on two cores, repetitions with 30-40 ms
     * of compilation decoded bf16 at 137-174 tok/s, quiet ones at 209-229. C2 compiles the steps' code
     * at invocation counts the default three short warm-ups do not reach (the per-layer steps at
     * ~5000 calls: ~600 decoded tokens). The bound is absolute, not a share of the repetition's time:
     * with "under 1%" an f32 repetition (~0.8 s) passed as quiet with 6-8 ms of C1 compiles of the
     * steps, which precede their C2 compiles, and those (~100-400 ms each) then landed in the measured
     * repetitions (engine10: warm-ups 4, then 385 and 246 ms of JIT in the first two measured ones;
     * the lead's job, f32: "warm-ups 4, JIT ms 386" in two rounds). A server's engine is long past
     * this; llama.cpp has no JIT, so steady state against steady state is the fair comparison
     * (bench/engine/README.md says how llama-bench is warmed). Each step's C2 compile (it inlines the
     * step's whole call tree) comes when that step's own counters cross, so quiet repetitions come
     * between compiles by chance: with three in a row, C2 compiles of 100-300 ms still landed after
     * twelve warm-ups (PrintCompilation: the per-layer lambdas of attention and the experts, one by one).
     */
    private static final int MIN_WARMUP_REPETITIONS = 10;
    private static final int QUIET_REPETITIONS = 4;
    private static final long QUIET_JIT_MS = 2;

    /**
     * Prefills alone before the whole repetitions: at least {@link #MIN_PREFILL_WARMUPS}, then until
     * {@link #QUIET_PREFILLS} in a row with at most {@link #QUIET_JIT_MS} ms of JIT, at most
     * {@link #MAX_PREFILL_WARMUPS}. A prefill calls each of its per-layer steps once per layer, so
     * one per repetition brought them to C2 only after some 30 repetitions: in a run of prefills
     * alone (engine10, f32, two threads) compilations of 10-90 ms kept landing until the ~30th
     * prefill while prefill rose from ~500 to 650-720 tok/s, and the measured repetitions of the
     * lead's job came after 4-13 warm-ups. Prefills alone get there in a few seconds (~0.1 s each).
     */
    private static final int MIN_PREFILL_WARMUPS = 30;
    private static final int QUIET_PREFILLS = 8;
    private static final int MAX_PREFILL_WARMUPS = 120;
    private static final int MAX_WARMUP_REPETITIONS = 40;

    /**
     * Idles while compilations queued during the warm-ups finish, in steps of {@link #SETTLE_MS}, until
     * one step adds no compilation time (at most ten steps). A C2 compile started in the last warm-up
     * is counted only when it ends: in engine10's job 2, the first measured repetition after a "quiet"
     * warm-up had 67-80 ms of JIT in every run of this branch.
     */
    private static void settleCompilations(java.lang.management.CompilationMXBean jit) {
        try {
            for (int step = 0; step < 10; step++) {
                long before = jit.getTotalCompilationTime();
                Thread.sleep(SETTLE_MS);
                if (jit.getTotalCompilationTime() == before) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final long SETTLE_MS = 200;

    /** One line per warm-up and measured repetition on stderr (the JSON on stdout is the result). */
    private static void progress(String what, int i, long[] t, long jitMs, int promptTokens, int decodeTokens) {
        System.err.printf(java.util.Locale.ROOT, "bench: %s %d at %d ms: prefill %.1f tok/s, decode %.1f tok/s, JIT %d ms%n", what, i,
                java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime(),
                promptTokens / (t[0] / 1e9), decodeTokens / (t[1] / 1e9), jitMs);
    }

    /** One measured repetition on a fresh session: nanoseconds of prefill and of decode. */
    private static long[] repetition(Model model, int[] prompt, int decodeTokens) {
        Session s = model.newSession(prompt.length + decodeTokens, Session.Form.ABSORBED);
        long t0 = System.nanoTime();
        float[] logits = model.prefill(s, prompt);
        long t1 = System.nanoTime();
        for (int n = 0; n < decodeTokens; n++) {
            logits = model.forward(s, io.cleargate.engine.embedded.Sampler.argmax(logits), true);
        }
        return new long[] {t1 - t0, System.nanoTime() - t1};
    }

    /**
     * CPU the whole process uses in one second with no request, half a second after the last one:
     * the engine's team spins only briefly after a region and then parks, so this should be ~0.
     */
    private static double idleCpuMillisPerSecond() {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try {
            Thread.sleep(500);
            long before = os.getProcessCpuTime();
            Thread.sleep(1000);
            return (os.getProcessCpuTime() - before) / 1e6;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    private static double mean(double[] values) {
        return java.util.Arrays.stream(values).average().orElse(Double.NaN);
    }

    private static double stddev(double[] values) {
        double m = mean(values);
        return values.length < 2 ? 0 : Math.sqrt(java.util.Arrays.stream(values).map(v -> (v - m) * (v - m)).sum() / (values.length - 1));
    }

    /** Perplexity on a text file, weights as stored versus requantized to int8, in one run. */
    private static void perplexity(Map<String, String> opts, PrintStream out) throws java.io.IOException {
        Path dir = Path.of(required(opts, "model"));
        String text = java.nio.file.Files.readString(Path.of(required(opts, "text")));
        int max = Integer.parseInt(opts.getOrDefault("max-tokens", "256"));
        List<Integer> encoded = io.cleargate.engine.embedded.tokenizer.Tokenizer.load(dir.resolve("tokenizer.json")).encode(text);
        int[] ids = encoded.stream().limit(max).mapToInt(Integer::intValue).toArray();
        try (Model stored = Model.load(dir); Model int8 = Model.load(dir, Model.WeightMode.INT8)) {
            Perplexity.Comparison c = Perplexity.compare(stored, int8, ids);
            out.printf(java.util.Locale.ROOT, "{\"tokens\": %d, \"weights\": \"%s\", \"perplexity_as_stored\": %.4f, "
                            + "\"perplexity_int8\": %.4f, \"int8_over_as_stored\": %.5f, \"top1_agreement\": %.4f, \"mean_kl_nats\": %.6f, "
                            + "\"active_weight_mb_as_stored\": %.2f, \"active_weight_mb_int8\": %.2f}%n",
                    ids.length, stored.weightFormat(), c.reference(), c.candidate(), c.candidate() / c.reference(),
                    c.top1Agreement(), c.meanKl(), stored.activeWeightBytes(false) / 1e6, int8.activeWeightBytes(false) / 1e6);
        }
    }

    private static List<Integer> ids(String csv) {
        List<Integer> ids = new ArrayList<>();
        for (String part : csv.split(",")) {
            if (!part.isBlank()) {
                ids.add(Integer.parseInt(part.trim()));
            }
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("--ids needs at least one token id");
        }
        return ids;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                opts.put(key, args[++i]);
            } else {
                opts.put(key, "true");
            }
        }
        return opts;
    }

    private static String required(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null) {
            System.err.println("missing --" + key);
            usage();
        }
        return v;
    }

    private static void usage() {
        System.err.println("""
                usage: cleargate engine logits   --model DIR --ids 0,17,42 [--naive]
                       cleargate engine generate --model DIR --ids 0,17,42 --max-tokens N
                       cleargate engine chat     --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--seed S]
                       cleargate engine bench    --model DIR [--prompt-tokens P] [--decode-tokens N] [--probe-bytes B] [--int8] [--rounds-on-stdin]
                       cleargate engine perplexity --model DIR --text FILE [--max-tokens N]""");
        System.exit(2);
    }
}
