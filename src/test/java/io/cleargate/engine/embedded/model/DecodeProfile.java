package io.cleargate.engine.embedded.model;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Not a test (throwaway): where a decoded token's time goes, by step of the team's region, with
 * -Dcleargate.engine.profileSteps=true. Args: MODEL_DIR THREADS WARMUP_REPS REPS.
 */
public final class DecodeProfile {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int warm = Integer.parseInt(args[2]);
        int reps = Integer.parseInt(args[3]);
        int decode = 64;
        try (Team team = new Team(threads); Model model = Model.load(dir, Model.WeightMode.AS_STORED, team)) {
            int vocab = model.config().vocabSize();
            int[] prompt = new int[64];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 7919 + 13) % vocab;
            }
            for (int w = 0; w < warm; w++) {
                rep(model, prompt, decode);
            }
            long[][] work = new long[threads][Team.MAX_STEPS + 1];
            long[][] wait = new long[threads][Team.MAX_STEPS + 1];
            long wall = 0;
            long tokens = 0;
            for (int r = 0; r < reps; r++) {
                Session s = model.newSession(prompt.length + decode, Session.Form.ABSORBED);
                float[] logits = model.prefill(s, prompt);
                Thread.sleep(1);
                long[][] w0 = snap(Team.WORK, threads);
                long[][] q0 = snap(Team.WAIT, threads);
                long t0 = System.nanoTime();
                for (int n = 0; n < decode; n++) {
                    logits = model.forward(s, io.cleargate.engine.embedded.Sampler.argmax(logits), true);
                }
                wall += System.nanoTime() - t0;
                Thread.sleep(1);
                tokens += decode;
                for (int m = 0; m < threads; m++) {
                    for (int i = 0; i <= Team.MAX_STEPS; i++) {
                        work[m][i] += Team.WORK[m][i] - w0[m][i];
                        wait[m][i] += Team.WAIT[m][i] - q0[m][i];
                    }
                }
            }
            double perTok = wall / 1e3 / tokens;
            System.out.printf(Locale.ROOT, "%s, %d threads: %d tokens, %.1f us a token (%.1f tok/s)%n", dir.getFileName(), threads,
                    tokens, perTok, 1e9 * tokens / wall);
            String[] kinds = {"q_a+kv_a", "attention", "o_proj", "gate/up", "down"};
            double[] byKindWork = new double[6];
            double[] byKindWait = new double[6];
            double region0 = wait[0][Team.MAX_STEPS] / 1e3 / tokens;
            System.out.printf(Locale.ROOT, "start barrier (member 0): %.2f us%n", region0);
            System.out.printf(Locale.ROOT, "%-4s %-10s %s%n", "step", "kind", "work/wait us per token, by member");
            for (int i = 0; i < Team.MAX_STEPS; i++) {
                if (work[0][i] == 0) {
                    continue;
                }
                int kind = i >= 40 ? 5 : i % 5;
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-4d %-10s", i, kind == 5 ? "logits" : kinds[kind]));
                for (int m = 0; m < threads; m++) {
                    double wk = work[m][i] / 1e3 / tokens;
                    double wt = wait[m][i] / 1e3 / tokens;
                    line.append(String.format(Locale.ROOT, "  %7.2f/%6.2f", wk, wt));
                    byKindWork[kind] += wk / threads;
                    byKindWait[kind] += wt / threads;
                }
                System.out.println(line);
            }
            double inRegion = region0;
            for (int i = 0; i < Team.MAX_STEPS; i++) {
                inRegion += (work[0][i] + wait[0][i]) / 1e3 / tokens;
            }
            System.out.printf(Locale.ROOT, "%nby kind (mean over members, us per token): work / wait%n");
            double tw = 0, tq = 0;
            for (int k = 0; k < 6; k++) {
                System.out.printf(Locale.ROOT, "  %-10s %8.2f / %6.2f%n", k == 5 ? "logits" : kinds[k], byKindWork[k], byKindWait[k]);
                tw += byKindWork[k];
                tq += byKindWait[k];
            }
            System.out.printf(Locale.ROOT, "  %-10s %8.2f / %6.2f%n", "all", tw, tq);
            System.out.printf(Locale.ROOT, "member 0 in regions %.1f us, outside %.1f us a token%n", inRegion, perTok - inRegion);
        }
    }

    private static void rep(Model model, int[] prompt, int decode) {
        Session s = model.newSession(prompt.length + decode, Session.Form.ABSORBED);
        float[] logits = model.prefill(s, prompt);
        for (int n = 0; n < decode; n++) {
            logits = model.forward(s, io.cleargate.engine.embedded.Sampler.argmax(logits), true);
        }
    }

    private static long[][] snap(long[][] a, int threads) {
        long[][] out = new long[threads][];
        for (int m = 0; m < threads; m++) {
            out[m] = a[m].clone();
        }
        return out;
    }
}
