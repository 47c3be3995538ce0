package io.cleargate.engine.embedded.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before BPE, as the tokenizers library's pre-tokenizers do. Supported:
 * {@code Sequence}, {@code Split} (regex or literal pattern, with its behaviour and invert flag),
 * {@code ByteLevel} (optional GPT-2 regex and prefix space), {@code Digits}. Each one maps a list
 * of pieces to a finer list; ByteLevel also rewrites each piece into byte-level characters, which
 * BPE then merges.
 */
sealed interface PreTokenizer {

    /** GPT-2's word regex, which ByteLevel applies when use_regex is true. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    List<String> split(List<String> pieces);

    static PreTokenizer parse(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return new Sequence(List.of());
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                node.path("pretokenizers").forEach(n -> steps.add(parse(n)));
                yield new Sequence(steps);
            }
            case "Split" -> {
                JsonNode pattern = node.path("pattern");
                String regex = pattern.has("Regex") ? pattern.path("Regex").asText() : Pattern.quote(pattern.path("String").asText());
                yield new Split(compile(regex), node.path("behavior").asText("Isolated"), node.path("invert").asBoolean(false));
            }
            case "ByteLevel" -> new ByteLevelStep(node.path("add_prefix_space").asBoolean(false), node.path("use_regex").asBoolean(true));
            case "Digits" -> new Split(compile(node.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+"), "Isolated", false);
            default -> throw new IllegalArgumentException("tokenizer.json: unsupported pre_tokenizer " + type);
        };
    }

    /** Oniguruma and java.util.regex agree on the syntax these patterns use once \s and friends are Unicode-aware. */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public List<String> split(List<String> pieces) {
            List<String> out = pieces;
            for (PreTokenizer step : steps) {
                out = step.split(out);
            }
            return out;
        }
    }

    /** Split each piece at regex matches; behaviour decides what happens to the matched text. */
    record Split(Pattern pattern, String behavior, boolean invert) implements PreTokenizer {
        @Override
        public List<String> split(List<String> pieces) {
            List<String> out = new ArrayList<>();
            for (String piece : pieces) {
                splitOne(piece, out);
            }
            return out;
        }

        private void splitOne(String piece, List<String> out) {
            // Collect (text, isMatch) spans covering the whole piece.
            List<String> texts = new ArrayList<>();
            List<Boolean> matched = new ArrayList<>();
            Matcher m = pattern.matcher(piece);
            int last = 0;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                if (m.start() > last) {
                    texts.add(piece.substring(last, m.start()));
                    matched.add(invert);
                }
                texts.add(m.group());
                matched.add(!invert);
                last = m.end();
            }
            if (last < piece.length()) {
                texts.add(piece.substring(last));
                matched.add(invert);
            }
            switch (behavior) {
                case "Isolated" -> out.addAll(texts);
                case "Removed" -> {
                    for (int i = 0; i < texts.size(); i++) {
                        if (!matched.get(i)) {
                            out.add(texts.get(i));
                        }
                    }
                }
                case "MergedWithPrevious" -> {
                    StringBuilder current = new StringBuilder();
                    for (int i = 0; i < texts.size(); i++) {
                        current.append(texts.get(i));
                        if (matched.get(i)) {
                            out.add(current.toString());
                            current.setLength(0);
                        }
                    }
                    if (!current.isEmpty()) {
                        out.add(current.toString());
                    }
                }
                case "MergedWithNext" -> {
                    StringBuilder current = new StringBuilder();
                    for (int i = 0; i < texts.size(); i++) {
                        if (matched.get(i) && !current.isEmpty()) {
                            out.add(current.toString());
                            current.setLength(0);
                        }
                        current.append(texts.get(i));
                    }
                    if (!current.isEmpty()) {
                        out.add(current.toString());
                    }
                }
                case "Contiguous" -> {
                    StringBuilder current = new StringBuilder();
                    Boolean kind = null;
                    for (int i = 0; i < texts.size(); i++) {
                        if (kind != null && !kind.equals(matched.get(i))) {
                            out.add(current.toString());
                            current.setLength(0);
                        }
                        current.append(texts.get(i));
                        kind = matched.get(i);
                    }
                    if (!current.isEmpty()) {
                        out.add(current.toString());
                    }
                }
                default -> throw new IllegalArgumentException("tokenizer.json: unsupported split behavior " + behavior);
            }
        }
    }

    /** Byte-level step: optional GPT-2 split and prefix space, then bytes to byte-level characters. */
    record ByteLevelStep(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        private static final Pattern GPT2 = compile(GPT2_PATTERN);

        @Override
        public List<String> split(List<String> pieces) {
            List<String> words = pieces;
            if (addPrefixSpace && !words.isEmpty() && !words.getFirst().startsWith(" ")) {
                words = new ArrayList<>(words);
                words.set(0, " " + words.getFirst());
            }
            if (useRegex) {
                words = new Split(GPT2, "Isolated", false).split(words);
            }
            List<String> out = new ArrayList<>(words.size());
            for (String w : words) {
                out.add(ByteLevel.encode(w));
            }
            return out;
        }
    }
}
