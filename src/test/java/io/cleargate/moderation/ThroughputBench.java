package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * JMH benchmark (run by bench/moderation/run.sh, one thread = one core): the default profile
 * over the evaluation corpus, whole-text (input) and streamed in 4-char chunks (output, which
 * re-scans the hold-back window on every chunk).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Threads(1)
public class ThroughputBench {

    /** Corpus bytes (UTF-8) per operation, read by run.sh to turn ops/s into MB/s. */
    public static final String CORPUS = "bench/moderation/out/eval.jsonl";

    RuleSet rules;
    List<String> texts;
    String corpus;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rules = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of());
        texts = new ArrayList<>();
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(Path.of(CORPUS))) {
            var node = mapper.readTree(line);
            if (node.get("kind").asText().equals("eval")) {
                texts.add(node.get("text").asText());
            }
            if (texts.size() == 400) {
                break;
            }
        }
        corpus = String.join("\n", texts);
    }

    public static int corpusBytes(List<String> texts) {
        return String.join("\n", texts).getBytes(StandardCharsets.UTF_8).length;
    }

    @Benchmark
    public void inputWholeText(Blackhole bh) {
        bh.consume(rules.scan(NormalizedText.of(corpus), Direction.INPUT).findings());
    }

    @Benchmark
    public void outputStreamedInFourCharChunks(Blackhole bh) {
        var stream = new StreamModerator(rules, new Placeholders());
        for (int i = 0; i < corpus.length(); i += 4) {
            bh.consume(stream.push(corpus.substring(i, Math.min(corpus.length(), i + 4)), false).text());
        }
        bh.consume(stream.push("", true).text());
    }

    /** Prints the corpus size so MB/s can be derived from ops/s. */
    public static void main(String[] args) throws Exception {
        var b = new ThroughputBench();
        b.setUp();
        System.out.println("corpus_bytes=" + b.corpus.getBytes(StandardCharsets.UTF_8).length + " texts=" + b.texts.size());
    }
}
