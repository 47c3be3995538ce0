package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;

/**
 * Benchmark support, not a test: what each default-profile rule costs alone on a corpus moderated
 * one document at a time, each document normalised afresh so that a rule pays for the views it
 * reads ("none": the normalisation alone, "all": every rule). Prints µs per pass of the corpus,
 * the cheapest pass in about {@code millis} of this thread's CPU time per row. Arguments: corpus,
 * millis, then rule ids (default: none, all and every rule).
 */
public final class RuleDocs {

    private RuleDocs() {}

    public static void main(String[] args) {
        List<String> documents = BenchCorpus.of(args[0]);
        long millis = Long.parseLong(args[1]);
        Profile profile = ModerationFixtures.profiles().get("default");
        List<String> rows = args.length > 2 ? List.of(args).subList(2, args.length)
                : java.util.stream.Stream.concat(java.util.stream.Stream.of("none", "all"),
                        profile.rules().stream().map(Rule::id)).toList();
        var cpu = ManagementFactory.getThreadMXBean();
        for (String row : rows) {
            RuleSet rules = row.equals("all") ? new RuleSet(profile, Map.of())
                    : new RuleSet(new Profile("one", "", profile.rules().stream().filter(r -> r.id().equals(row)).toList()), Map.of());
            long until = cpu.getCurrentThreadCpuTime() + millis * 1_000_000L;
            long best = Long.MAX_VALUE;
            long findings = 0;
            int passes = 0;
            do {
                long t0 = cpu.getCurrentThreadCpuTime();
                for (String d : documents) {
                    findings += rules.scan(NormalizedText.of(d), Direction.INPUT).findings().size();
                }
                best = Math.min(best, cpu.getCurrentThreadCpuTime() - t0);
                passes++;
            } while (cpu.getCurrentThreadCpuTime() < until);
            System.out.printf("%-26s %10.1f us per pass, %d findings per pass%n", row, best / 1e3, findings / passes);
        }
    }
}
