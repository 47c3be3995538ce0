package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * JMH benchmark (run by bench/moderation/run.sh, one thread = one core): the default profile
 * whole-text (input; joined into one text and one document at a time) and streamed in 4-char chunks (output), on two corpora ({@link BenchCorpus}):
 * {@code pii}, dense personal data, and {@code mixed}, prose, code, logs and 200 KB retrieval
 * prompts. {@link PerRule} times each rule alone on views built beforehand, and the
 * normalisation that all rules share, so the cost can be attributed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Threads(1)
public class ThroughputBench {

    @Param({"pii", "mixed"})
    public String corpus;

    RuleSet rules;
    String text;
    java.util.List<String> documents;

    @Setup(Level.Trial)
    public void setUp() {
        rules = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of());
        documents = BenchCorpus.of(corpus);
        text = String.join("\n", documents);
    }

    @Benchmark
    public void inputWholeText(Blackhole bh) {
        bh.consume(rules.scan(NormalizedText.of(text), Direction.INPUT).findings());
    }

    /**
     * The same corpus moderated one document at a time, as requests are: the joined text lets an
     * injection gate pass once for all documents and spreads each probe's fixed cost over the
     * whole corpus, so it hides what a short text costs on its own.
     */
    @Benchmark
    public void inputPerDocument(Blackhole bh) {
        for (String document : documents) {
            bh.consume(rules.scan(NormalizedText.of(document), Direction.INPUT).findings());
        }
    }

    @Benchmark
    public void outputStreamedInFourCharChunks(Blackhole bh) {
        var stream = new StreamModerator(rules, new Placeholders());
        for (int i = 0; i < text.length(); i += 4) {
            bh.consume(stream.push(text.substring(i, Math.min(text.length(), i + 4)), false).text());
        }
        bh.consume(stream.push("", true).text());
    }

    /** One default-profile rule alone ("normalize": building the text and its four views). */
    @State(Scope.Benchmark)
    public static class PerRule {
        @Param({"pii", "mixed"})
        public String corpus;

        @Param({"normalize", "secret-private-key", "secret-cloud-key", "secret-token", "secret-jwt", "secret-high-entropy",
            "pii-email", "pii-phone", "pii-card", "pii-iban", "pii-ssn", "pii-ip", "prompt-injection",
            "system-prompt-extraction"})
        public String rule;

        String text;
        NormalizedText normalized;
        RuleSet single;

        @Setup(Level.Trial)
        public void setUp() {
            text = String.join("\n", BenchCorpus.of(corpus));
            normalized = normalize(text);
            Profile profile = ModerationFixtures.profiles().get("default");
            single = rule.equals("normalize") ? null : new RuleSet(new Profile("one", "",
                    profile.rules().stream().filter(r -> r.id().equals(rule)).toList()), Map.of());
        }

        static NormalizedText normalize(String text) {
            NormalizedText n = NormalizedText.of(text);
            n.lower();
            n.compact();
            n.alnum();
            return n;
        }
    }

    @Benchmark
    @Warmup(iterations = 1, time = 1)
    @Measurement(iterations = 3, time = 1)
    public void singleRule(PerRule s, Blackhole bh) {
        if (s.single == null) {
            bh.consume(PerRule.normalize(s.text));
        } else {
            bh.consume(s.single.scan(s.normalized, Direction.INPUT).findings());
        }
    }

    /** Prints the corpus sizes so run.sh can turn ops/s into MB/s. */
    public static void main(String[] args) {
        for (String name : new String[] {"pii", "mixed"}) {
            var texts = BenchCorpus.of(name);
            System.out.println("corpus_bytes_" + name + "=" + String.join("\n", texts).getBytes(StandardCharsets.UTF_8).length
                    + " texts=" + texts.size());
        }
    }
}
