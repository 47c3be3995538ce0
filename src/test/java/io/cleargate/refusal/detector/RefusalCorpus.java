package io.cleargate.refusal.detector;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The labelled answers in src/test/resources/refusal/corpus (one JSONL file per language). Read
 * with a tiny parser for flat string objects so the benchmark runs with nothing but a JDK.
 */
record RefusalCorpus(List<Item> items) {

    /** One labelled answer; {@code label} is a {@link RefusalKind#id()}, {@code split} dev or test. */
    record Item(String id, String split, String lang, String category, String label, String finishReason, String text) {
        boolean declined() {
            return !label.equals("none");
        }

        /** Rows decided by the upstream's finish_reason alone, kept out of the text-detection figures. */
        boolean byFinishReason() {
            return category.equals("finish_reason");
        }
    }

    static RefusalCorpus load(Path dir) throws IOException {
        List<Item> items = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    if (!line.isBlank()) {
                        Map<String, String> m = parse(line);
                        items.add(new Item(m.get("id"), m.get("split"), m.get("lang"), m.get("category"), m.get("label"),
                                m.get("finish_reason"), m.get("text")));
                    }
                }
            }
        }
        return new RefusalCorpus(List.copyOf(items));
    }

    static Path defaultDir() {
        return Path.of("src/test/resources/refusal/corpus");
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        int[] pos = {skip(line, 0)};
        expect(line, pos, '{');
        while (true) {
            pos[0] = skip(line, pos[0]);
            if (line.charAt(pos[0]) == '}') {
                return m;
            }
            String key = string(line, pos);
            pos[0] = skip(line, pos[0]);
            expect(line, pos, ':');
            pos[0] = skip(line, pos[0]);
            m.put(key, string(line, pos));
            pos[0] = skip(line, pos[0]);
            if (line.charAt(pos[0]) == ',') {
                pos[0]++;
            }
        }
    }

    private static String string(String s, int[] pos) {
        expect(s, pos, '"');
        var sb = new StringBuilder();
        int i = pos[0];
        while (s.charAt(i) != '"') {
            char c = s.charAt(i++);
            if (c == '\\') {
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> sb.append(e);
                }
            } else {
                sb.append(c);
            }
        }
        pos[0] = i + 1;
        return sb.toString();
    }

    private static void expect(String s, int[] pos, char c) {
        if (s.charAt(pos[0]) != c) {
            throw new IllegalArgumentException("expected '" + c + "' at " + pos[0] + " in " + s);
        }
        pos[0]++;
    }

    private static int skip(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }
}
