package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.util.List;
import java.util.Map;

/**
 * Benchmark support, not a test (bench/moderation/profile.sh): moderates one corpus whole-text
 * with the default profile in a loop for a number of seconds, so a JFR recording of this JVM shows
 * where whole-text moderation spends its time. Arguments: corpus (pii or mixed), seconds, and
 * optionally "docs" to moderate the corpus one document at a time (as requests are) instead of
 * joined into one text.
 */
public final class ProfileLoop {

    private ProfileLoop() {}

    public static void main(String[] args) {
        List<String> documents = BenchCorpus.of(args[0]);
        List<String> texts = args.length > 2 && args[2].equals("docs") ? documents : List.of(String.join("\n", documents));
        long seconds = Long.parseLong(args[1]);
        RuleSet rules = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of());
        long until = System.nanoTime() + seconds * 1_000_000_000L;
        int runs = 0;
        int findings = 0;
        while (System.nanoTime() < until) {
            for (String text : texts) {
                findings += rules.scan(NormalizedText.of(text), Direction.INPUT).findings().size();
            }
            runs++;
        }
        System.out.println(args[0] + ": " + runs + " runs, " + findings / Math.max(1, runs) + " findings per run");
    }
}
