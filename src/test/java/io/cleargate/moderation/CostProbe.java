package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cost of moderating a benchmark corpus with whatever moderation classes this class loader
 * sees; {@link CompareBuilds} loads it once per build. Uses only what every build has.
 */
public final class CostProbe {

    private static final Map<String, String> TEXTS = new HashMap<>();
    private static final Map<String, List<String>> DOCUMENTS = new HashMap<>();

    private CostProbe() {}

    /**
     * MB/s per core of {@code what} on the corpus, from the cheapest run in about {@code millis} of
     * this thread's CPU time: input (whole text, default profile), docs (the same corpus moderated
     * one document at a time, as requests are: the joined text lets a gate pass once for all of
     * them and hides what each document pays on its own), stream (4-char chunks), normalize (the
     * text and its views), or a default-profile rule id alone on prepared views.
     */
    public static double measure(String corpus, String what, long millis) {
        List<String> documents = DOCUMENTS.computeIfAbsent(corpus, BenchCorpus::of);
        String text = TEXTS.computeIfAbsent(corpus, c -> String.join("\n", documents));
        Profile profile = ModerationFixtures.profiles().get("default");
        RuleSet all = new RuleSet(profile, Map.of());
        RuleSet single = new RuleSet(new Profile("one", "", profile.rules().stream().filter(r -> r.id().equals(what))
                .toList()), Map.of());
        var cpu = ManagementFactory.getThreadMXBean();
        long until = cpu.getCurrentThreadCpuTime() + millis * 1_000_000L;
        long best = Long.MAX_VALUE;
        int runs = 0;
        do {
            // a rule alone runs on views built beforehand, fresh each run: nothing it derived is reused
            NormalizedText prepared = List.of("input", "docs", "normalize", "stream").contains(what) ? null : views(text);
            long t0 = cpu.getCurrentThreadCpuTime();
            switch (what) {
                case "input" -> all.scan(NormalizedText.of(text), Direction.INPUT);
                case "docs" -> documents.forEach(d -> all.scan(NormalizedText.of(d), Direction.INPUT));
                case "normalize" -> views(text);
                case "stream" -> {
                    var stream = new StreamModerator(all, new Placeholders());
                    for (int i = 0; i < text.length(); i += 4) {
                        stream.push(text.substring(i, Math.min(text.length(), i + 4)), false);
                    }
                    stream.push("", true);
                }
                default -> single.scan(prepared, Direction.INPUT);
            }
            best = Math.min(best, cpu.getCurrentThreadCpuTime() - t0);
            runs++;
        } while (cpu.getCurrentThreadCpuTime() < until || runs < 2);
        return text.getBytes(StandardCharsets.UTF_8).length / (best / 1e3);
    }

    private static NormalizedText views(String text) {
        NormalizedText n = NormalizedText.of(text);
        n.lower();
        n.compact();
        n.alnum();
        return n;
    }
}
