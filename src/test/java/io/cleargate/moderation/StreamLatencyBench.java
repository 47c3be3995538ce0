package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.util.Arrays;
import java.util.Map;

/**
 * What the output filter adds to a stream (run by bench/moderation/run.sh): the chunks held back
 * before the first release (time to first token) and the processing time per chunk (inter-chunk
 * delay), for a typical answer streamed in 4-char chunks (about one token each).
 */
public final class StreamLatencyBench {

    public static void main(String[] args) {
        RuleSet rules = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of());
        String answer = ("To configure the service, open the settings page and set the retry count to three. "
                + "If the job still fails, check the logs under /var/log/app and contact the on-call engineer. ").repeat(20);
        int chunk = 4;
        int runs = 300;
        long[] perChunk = new long[runs * (answer.length() / chunk + 1)];
        int n = 0;
        int heldChunks = -1;
        int heldChars = -1;
        for (int run = 0; run < runs; run++) {
            var stream = new StreamModerator(rules, new Placeholders());
            int released = 0;
            int index = 0;
            for (int i = 0; i < answer.length(); i += chunk, index++) {
                String piece = answer.substring(i, Math.min(answer.length(), i + chunk));
                long t0 = System.nanoTime();
                String out = stream.push(piece, false).text();
                long dt = System.nanoTime() - t0;
                if (run >= runs / 3) {
                    perChunk[n++] = dt;
                }
                if (released == 0 && !out.isEmpty() && run == 0) {
                    heldChunks = index + 1;
                    heldChars = i + piece.length();
                }
                released += out.length();
            }
            stream.push("", true);
        }
        long[] sample = Arrays.copyOf(perChunk, n);
        Arrays.sort(sample);
        System.out.printf("window_alnum_chars=%d%n", rules.window());
        System.out.printf("first_release_after_chunks=%d (chars=%d)%n", heldChunks, heldChars);
        for (int tps : new int[] {30, 60, 120}) {
            System.out.printf("added_ttft_at_%d_tokens_per_s_ms=%.0f%n", tps, 1000.0 * heldChunks / tps);
        }
        System.out.printf("per_chunk_us_p50=%.1f p99=%.1f mean=%.1f%n", sample[n / 2] / 1000.0, sample[(int) (n * 0.99)] / 1000.0,
                Arrays.stream(sample).average().orElse(0) / 1000.0);
        // Reference: the same text scanned once as a whole (input path).
        long t0 = System.nanoTime();
        for (int i = 0; i < 50; i++) {
            rules.scan(NormalizedText.of(answer), Direction.INPUT);
        }
        System.out.printf("whole_answer_scan_us=%.1f (%d chars)%n", (System.nanoTime() - t0) / 50 / 1000.0, answer.length());
    }
}
