package io.cleargate.moderation;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.moderation.Verdict.Direction;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes every finding (rule, action, span, score) of the default and strict profiles, both
 * directions, for the evaluation set, the mixed benchmark corpus and the linear-time inputs, and
 * what a streamed response releases. Run on two builds (with {@code -Dcorpus.root} pointing both at
 * one checkout) and compared with {@code cmp}, it shows that a change to the detectors leaves
 * every verdict and every streamed text as it was.
 */
public final class VerdictDump {

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "bench/moderation/out/verdicts.txt");
        List<String> texts = new ArrayList<>();
        var mapper = new ObjectMapper();
        for (String line : Files.readAllLines(Path.of(BenchCorpus.EVAL))) {
            texts.add(mapper.readTree(line).get("text").asText());
        }
        texts.addAll(BenchCorpus.mixed());
        for (String unit : List.of("-", "-----BEGIN ", "-----BEGIN RSA PRIVATE KEY-----\n-", "#", "## system ", "< ", "a@a.",
                "1 ", "4111 1111 1111 1111 ", "1.", "DE89 3704 ", "::1 ", "A K I A ", "ghp_", "eyJaaaaaaaaaaaa.", "aB3+/",
                "i g n o r e ")) {
            texts.add(unit.repeat(5_000 / unit.length()));
        }
        var profiles = ModerationFixtures.profiles();
        try (BufferedWriter w = Files.newBufferedWriter(out)) {
            for (String profile : List.of("default", "strict")) {
                RuleSet rules = new RuleSet(profiles.get(profile), Map.of());
                for (int i = 0; i < texts.size(); i++) {
                    var normalized = NormalizedText.of(texts.get(i));
                    for (Direction d : Direction.values()) {
                        for (Finding f : rules.scan(normalized, d).findings()) {
                            w.write(profile + " " + i + " " + d + " " + f.rule().id() + " " + f.action() + " " + f.start() + "-"
                                    + f.end() + " " + f.match().score() + "\n");
                        }
                    }
                }
            }
            RuleSet rules = new RuleSet(profiles.get("default"), Map.of());
            for (int chunk : new int[] {1, 4, 17}) {
                for (int i = 0; i < texts.size(); i++) {
                    String t = texts.get(i);
                    if (t.length() > 30_000 && chunk < 17) {
                        continue;
                    }
                    var stream = new StreamModerator(rules, new Placeholders());
                    var released = new StringBuilder();
                    for (int at = 0; at < t.length() && !stream.ended(); at += chunk) {
                        released.append(stream.push(t.substring(at, Math.min(t.length(), at + chunk)), false).text());
                    }
                    released.append(stream.push("", true).text());
                    w.write("stream " + chunk + " " + i + " " + released.toString().hashCode() + " " + released.length() + " "
                            + stream.verdicts() + "\n");
                }
            }
        }
        System.out.println("wrote " + out);
    }
}
