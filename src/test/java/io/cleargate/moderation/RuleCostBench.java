package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Where the time goes: each default-profile rule alone over the benchmark corpus (a diagnostic, run by hand). */
public final class RuleCostBench {

    public static void main(String[] args) throws Exception {
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(ThroughputBench.CORPUS))) {
            var node = mapper.readTree(line);
            if (node.get("kind").asText().equals("eval") && texts.size() < 400) {
                texts.add(node.get("text").asText());
            }
        }
        String corpus = String.join("\n", texts);
        Profile p = ModerationFixtures.profiles().get("default");
        for (int round = 0; round < 15; round++) {
            boolean print = round == 14;
            long t0 = System.nanoTime();
            NormalizedText nt = NormalizedText.of(corpus);
            nt.lower();
            nt.compact();
            nt.alnum();
            if (print) System.out.printf("normalize: %.1f ms%n", (System.nanoTime() - t0) / 1e6);
            for (Rule r : p.rules()) {
                var single = new RuleSet(new Profile("x", "", List.of(r)), Map.of());
                t0 = System.nanoTime();
                single.scan(nt, Direction.INPUT);
                if (print) System.out.printf("%-28s %8.1f ms%n", r.id(), (System.nanoTime() - t0) / 1e6);
            }
        }
    }
}
