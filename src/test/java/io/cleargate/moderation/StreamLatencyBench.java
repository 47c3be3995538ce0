package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the output filter adds to a stream (run by bench/moderation/run.sh), for a typical answer
 * cut into chunks two ways: word-sized tokens (" word", as model tokenizers cut prose) and 4-char
 * pieces. Reported: how many chunks arrive before the first release (added time to first token,
 * converted at a few token rates), the longest run of chunks that released nothing (the worst
 * added gap between chunks), and the filter's own processing time per chunk.
 */
public final class StreamLatencyBench {

    static final String ANSWER = ("To configure the service, open the settings page and set the retry count to three. "
            + "If the job still fails, check the logs under /var/log/app and contact the on-call engineer. ").repeat(20);

    public static void main(String[] args) {
        RuleSet rules = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of());
        report("word_tokens", rules, words(ANSWER));
        report("four_char_chunks", rules, pieces(ANSWER, 4));
        // Reference: the same text scanned once as a whole (input path).
        long t0 = System.nanoTime();
        for (int i = 0; i < 50; i++) {
            rules.scan(NormalizedText.of(ANSWER), Direction.INPUT);
        }
        System.out.printf("whole_answer_scan_us=%.1f (%d chars)%n", (System.nanoTime() - t0) / 50 / 1000.0, ANSWER.length());
    }

    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == ' ') {
                out.add(text.substring(start, i));
                start = i;
            }
        }
        return out;
    }

    static List<String> pieces(String text, int size) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += size) {
            out.add(text.substring(i, Math.min(text.length(), i + size)));
        }
        return out;
    }

    private static void report(String name, RuleSet rules, List<String> chunks) {
        int runs = 300;
        long[] perChunk = new long[runs * chunks.size()];
        int n = 0;
        int firstRelease = -1;
        int worstHeld = 0;
        for (int run = 0; run < runs; run++) {
            var stream = new StreamModerator(rules, new Placeholders());
            int held = 0;
            for (int index = 0; index < chunks.size(); index++) {
                long t0 = System.nanoTime();
                String out = stream.push(chunks.get(index), false).text();
                long dt = System.nanoTime() - t0;
                if (run >= runs / 3) {
                    perChunk[n++] = dt;
                }
                if (run == 0) {
                    if (out.isEmpty()) {
                        held++;
                    } else {
                        firstRelease = firstRelease < 0 ? index : firstRelease;
                        worstHeld = Math.max(worstHeld, held);
                        held = 0;
                    }
                }
            }
            stream.push("", true);
        }
        long[] sample = Arrays.copyOf(perChunk, n);
        Arrays.sort(sample);
        System.out.printf("%s: chunks=%d first_release_at_chunk=%d (0 = released in the chunk that brought it) "
                + "worst_run_of_chunks_releasing_nothing=%d%n", name, chunks.size(), firstRelease, worstHeld);
        for (int tps : new int[] {30, 60, 120}) {
            System.out.printf("%s: at_%d_tokens_per_s added_ttft_ms=%.0f worst_added_gap_ms=%.0f%n", name, tps,
                    1000.0 * firstRelease / tps, 1000.0 * worstHeld / tps);
        }
        System.out.printf("%s: per_chunk_us_p50=%.1f p99=%.1f max=%.1f mean=%.1f%n", name, sample[n / 2] / 1000.0,
                sample[(int) (n * 0.99)] / 1000.0, sample[n - 1] / 1000.0, Arrays.stream(sample).average().orElse(0) / 1000.0);
    }
}
