package io.cleargate.engine.embedded.model;

import io.cleargate.testsupport.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Not a test: where a batched prefill's time goes. Loads a checkpoint on a team of THREADS, warms
 * the prefill until the JIT has compiled it, then records JFR execution samples (every millisecond)
 * over SECONDS of 64-token prefills and attributes each sample to a stage of the forward pass (by
 * the deepest frame of {@link Forward}'s pass: q_a/kv_a, q_b, attention heads, o_proj, router,
 * plan, experts' gate/up, experts' down, dense MLP, logits, barrier waits in {@link Team}) and to
 * the kernel on top of the stack. Run with -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints
 * so that samples land on the kernels' own frames rather than the nearest safepoint.
 *
 * <pre>java --add-modules=jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
 *   -cp target/classes:target/test-classes:DEPS io.cleargate.engine.embedded.model.PrefillProfile MODEL_DIR THREADS SECONDS</pre>
 */
public final class PrefillProfile {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        try (Team team = new Team(threads); Model model = Model.load(dir, Model.WeightMode.AS_STORED, team)) {
            int vocab = model.config().vocabSize();
            int[] prompt = new int[Model.PREFILL_CHUNK];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 7919 + 13) % vocab; // the bench's prompt
            }
            for (int w = 0; w < 120; w++) {
                model.prefill(model.newSession(prompt.length, Session.Form.ABSORBED), prompt);
            }
            Path jfr = Scratch.file("prefill-profile", ".jfr");
            int prefills = 0;
            long elapsed;
            try (Recording r = new Recording()) {
                r.enable("jdk.ExecutionSample").withPeriod(java.time.Duration.ofMillis(1)).withStackTrace();
                r.start();
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < seconds * 1_000_000_000L) {
                    model.prefill(model.newSession(prompt.length, Session.Form.ABSORBED), prompt);
                    prefills++;
                }
                elapsed = System.nanoTime() - t0;
                r.stop();
                r.dump(jfr);
            }
            System.out.printf(Locale.ROOT, "%s, %d threads: %d prefills in %.1f s, %.2f ms each, %.0f tok/s%n", dir.getFileName(),
                    threads, prefills, elapsed / 1e9, elapsed / 1e6 / prefills, prefills * (double) prompt.length / (elapsed / 1e9));
            report(RecordingFile.readAllEvents(jfr));
            Files.delete(jfr);
        }
    }

    /** Samples by stage, and by stage and top frame, as shares of all samples in the engine's threads. */
    private static void report(List<RecordedEvent> events) {
        Map<String, Integer> stages = new HashMap<>();
        Map<String, Integer> kernels = new HashMap<>();
        int total = 0;
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
                continue;
            }
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            if (frames.isEmpty()) {
                continue;
            }
            String stage = stageOf(frames);
            if (stage == null) {
                continue; // not the engine's work (JFR, the harness)
            }
            RecordedFrame top = frames.get(0);
            String kernel = top.getMethod().getType().getName().replaceAll(".*\\.", "") + "." + top.getMethod().getName();
            stages.merge(stage, 1, Integer::sum);
            kernels.merge(stage + " | " + kernel, 1, Integer::sum);
            total++;
        }
        System.out.printf(Locale.ROOT, "%d samples in the engine's work%n%nby stage:%n", total);
        print(stages, total, 0);
        System.out.printf("%nby stage and top frame (>= 0.5%%):%n");
        print(kernels, total, 0.005);
    }

    private static void print(Map<String, Integer> counts, int total, double min) {
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .filter(c -> c.getValue() >= min * total)
                .forEach(c -> System.out.printf(Locale.ROOT, "  %5.1f%%  %6d  %s%n", 100.0 * c.getValue() / total, c.getValue(), c.getKey()));
    }

    /**
     * The stage a sample belongs to: a barrier wait if a {@link Team} await is on top of the Forward
     * frames, otherwise named by the Forward$Pass methods on the stack (deepest first).
     */
    private static String stageOf(List<RecordedFrame> frames) {
        boolean inTeam = false;
        String pass = null;
        for (RecordedFrame f : frames) {
            String type = f.getMethod().getType().getName();
            String name = f.getMethod().getName();
            if (type.endsWith(".Team") && name.equals("await")) {
                return "barrier wait (Team.await)";
            }
            if (type.endsWith(".Team")) {
                inTeam = true;
            }
            if (type.endsWith("Forward$Pass") || type.endsWith(".Forward")) {
                String label = label(name, f.getLineNumber());
                if (label != null && pass == null) {
                    pass = label;
                }
            }
        }
        return pass != null ? pass : inTeam ? "team (other)" : null;
    }

    /** Names of the pass's methods that identify a stage; lambdas by the method that made them. */
    private static String label(String method, int line) {
        return switch (method) {
            case "twoProducts" -> "q_a + kv_a products";
            case "attendHead" -> "attention heads (absorbed)";
            case "expertsGateUp" -> "experts gate/up (routed + shared)";
            case "expertsDown" -> "experts down + weighted sum";
            case "plan" -> "routing plan";
            case "postNormOf", "inputOf", "rmsNorm", "normTokens" -> "norms";
            case "addRows" -> "residual adds";
            case "gateUp" -> null; // inside expertsGateUp or the dense MLP: the caller names it
            case "rows" -> null;
            default -> method.startsWith("lambda$") ? method.replaceAll("\\$\\d+$", "") + ":" + line : null;
        };
    }
}
