package io.cleargate.moderation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The texts the moderation benchmarks run on, built reproducibly from the repository and fixed
 * seeds. {@code pii}: the first 400 labelled evaluation texts (bench/moderation/out/eval.jsonl,
 * written by {@link QualityBench}), about one entity per sentence. {@code mixed}: what a gateway
 * mostly sees: prose (the repository's Markdown), code (its Java sources), service logs
 * (generated) and two retrieval-augmented prompts of 200 KB each (documents glued together).
 */
final class BenchCorpus {

    static final String EVAL = "bench/moderation/out/eval.jsonl";
    /** Where the mixed corpus's files come from (-Dcorpus.root=DIR: a fixed checkout, to compare builds). */
    static final Path ROOT = Path.of(System.getProperty("corpus.root", "."));
    static final int RETRIEVAL_BYTES = 200_000;

    private BenchCorpus() {}

    static List<String> of(String name) {
        return switch (name) {
            case "pii" -> pii();
            case "mixed" -> mixed();
            default -> throw new IllegalArgumentException("unknown corpus " + name + " (pii or mixed)");
        };
    }

    static int bytes(List<String> texts) {
        return texts.stream().mapToInt(t -> t.getBytes(StandardCharsets.UTF_8).length).sum();
    }

    static List<String> pii() {
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> texts = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of(EVAL))) {
                var node = mapper.readTree(line);
                if (node.get("kind").asText().equals("eval") && texts.size() < 400) {
                    texts.add(node.get("text").asText());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(EVAL + " is written by QualityBench (bench/moderation/run.sh)", e);
        }
        return texts;
    }

    static List<String> mixed() {
        List<String> prose = files(ROOT, ".md", 6);
        List<String> code = files(ROOT.resolve("src/main/java"), ".java", 40);
        String logs = logs(new Random(20261130), 1500);
        List<String> texts = new ArrayList<>();
        texts.addAll(prose);
        texts.addAll(code);
        texts.add(logs);
        List<String> docs = files(ROOT, ".md", 100);
        List<String> sources = files(ROOT.resolve("src/main/java"), ".java", 400);
        texts.add(retrieval(docs, sources, 0));
        texts.add(retrieval(docs, sources, 1));
        return texts;
    }

    /** Up to {@code limit} files with the suffix, in path order, skipping tool caches and build output. */
    private static List<String> files(Path root, String suffix, int limit) {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.toString().endsWith(suffix))
                    .filter(p -> !p.toString().matches(".*/(tools|target|node_modules|\\.venv[^/]*|out)/.*"))
                    .sorted().limit(limit).map(BenchCorpus::read).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A retrieval prompt: an instruction, then documents (Markdown and code interleaved) up to 200 KB. */
    private static String retrieval(List<String> docs, List<String> code, int seed) {
        var random = new Random(seed);
        var sb = new StringBuilder("Answer the question using only the documents below.\n\n");
        int i = 0;
        while (sb.length() < RETRIEVAL_BYTES) {
            boolean md = random.nextBoolean() && !docs.isEmpty();
            List<String> from = md ? docs : code;
            sb.append("### Document ").append(++i).append('\n').append(from.get(random.nextInt(from.size()))).append("\n\n");
        }
        sb.setLength(RETRIEVAL_BYTES);
        return sb.append("\n\nQuestion: which stages run before the engine is called?").toString();
    }

    /** Gateway-style service logs: timestamps, levels, request ids, hosts and addresses, durations. */
    static String logs(Random r, int lines) {
        String[] levels = {"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
        String[] loggers = {"io.cleargate.pipeline.Pipeline", "io.cleargate.audit.AuditWriter", "io.cleargate.routing.Router",
                "io.vertx.core.impl.BlockedThreadChecker", "org.hibernate.engine.jdbc.spi.SqlExceptionHelper"};
        String[] messages = {"request completed", "upstream slow", "retrying backend", "audit batch committed",
                "policy decision allow", "connection reset by peer", "Thread blocked for 2043 ms, time limit is 2000 ms"};
        var sb = new StringBuilder();
        long t = 1_764_500_000_000L;
        for (int i = 0; i < lines; i++) {
            t += r.nextInt(900);
            sb.append(java.time.Instant.ofEpochMilli(t)).append(' ').append(levels[r.nextInt(levels.length)]).append(" [")
                    .append(loggers[r.nextInt(loggers.length)]).append("] (executor-thread-").append(r.nextInt(16)).append(") ")
                    .append(messages[r.nextInt(messages.length)]).append(" request_id=")
                    .append(new java.util.UUID(r.nextLong(), r.nextLong())).append(" tenant=t").append(r.nextInt(40))
                    .append(" model=deepseek-v3 upstream=10.").append(r.nextInt(256)).append('.').append(r.nextInt(256))
                    .append('.').append(r.nextInt(256)).append(":8000 status=").append(r.nextBoolean() ? 200 : 503)
                    .append(" duration_ms=").append(r.nextInt(3000)).append(" bytes=").append(r.nextInt(100_000))
                    .append('\n');
        }
        return sb.toString();
    }
}
