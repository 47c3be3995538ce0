package io.cleargate.engine.embedded.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE tokenizer read from a Hugging Face tokenizer.json: added/special tokens are
 * matched first, the remaining text is pre-tokenized, each word is turned into byte-level
 * characters and merged by rank. Thread-safe.
 */
public final class Tokenizer {

    /** A token from added_tokens: matched verbatim before pre-tokenization. */
    public record AddedToken(int id, String content, boolean special) {}

    private static final int CACHE_LIMIT = 50_000;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final Map<String, Integer> mergeRanks;
    private final List<AddedToken> added;
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

    private Tokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, List<AddedToken> added,
                      PreTokenizer preTokenizer, boolean ignoreMerges) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
        // Longest added token first, so "<｜User｜>" is never cut short by a shorter one.
        this.added = added.stream().sorted(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed()).toList();
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        for (AddedToken t : added) {
            size = Math.max(size, t.id() + 1);
            addedById.put(t.id(), t);
        }
        idToToken = new String[size];
        vocab.forEach((token, id) -> idToToken[id] = token);
        for (AddedToken t : added) {
            idToToken[t.id()] = t.content();
        }
    }

    public static Tokenizer load(Path tokenizerJson) {
        try {
            return parse(new ObjectMapper().readTree(Files.readString(tokenizerJson)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerJson, e);
        }
    }

    public static Tokenizer parse(JsonNode root) {
        JsonNode model = root.path("model");
        if (!model.path("type").asText("BPE").equals("BPE")) {
            throw new IllegalArgumentException("tokenizer.json: only BPE models are supported, found " + model.path("type").asText());
        }
        Map<String, Integer> vocab = new HashMap<>();
        model.path("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        Map<String, Integer> ranks = new HashMap<>();
        int rank = 0;
        for (JsonNode merge : model.path("merges")) {
            // Older files write "a b"; newer ones write ["a", "b"] (which allows spaces inside tokens).
            String key = merge.isArray() ? merge.get(0).asText() + " " + merge.get(1).asText() : merge.asText();
            ranks.putIfAbsent(key, rank++);
        }
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            added.add(new AddedToken(t.path("id").asInt(), t.path("content").asText(), t.path("special").asBoolean(false)));
        }
        if (root.hasNonNull("normalizer")) {
            throw new IllegalArgumentException("tokenizer.json: normalizers are not supported");
        }
        PreTokenizer pre = PreTokenizer.parse(root.path("pre_tokenizer"));
        if (!usesByteLevel(root.path("pre_tokenizer"))) {
            throw new IllegalArgumentException("tokenizer.json: only byte-level BPE (a ByteLevel pre-tokenizer) is supported");
        }
        return new Tokenizer(vocab, ranks, added, pre, model.path("ignore_merges").asBoolean(false));
    }

    private static boolean usesByteLevel(JsonNode node) {
        if (node.path("type").asText().equals("ByteLevel")) {
            return true;
        }
        for (JsonNode child : node.path("pretokenizers")) {
            if (usesByteLevel(child)) {
                return true;
            }
        }
        return false;
    }

    public int vocabularySize() {
        return idToToken.length;
    }

    /** The id of an added or regular token spelled exactly {@code content}. */
    public Optional<Integer> tokenId(String content) {
        for (AddedToken t : added) {
            if (t.content().equals(content)) {
                return Optional.of(t.id());
            }
        }
        return Optional.ofNullable(vocab.get(content));
    }

    public Optional<String> tokenText(int id) {
        return id >= 0 && id < idToToken.length ? Optional.ofNullable(idToToken[id]) : Optional.empty();
    }

    public boolean isSpecial(int id) {
        AddedToken t = addedById.get(id);
        return t != null && t.special();
    }

    /** Encodes text; added tokens written in the text (including special ones) become their ids, as HF does. */
    public List<Integer> encode(String text) {
        return encode(text, true);
    }

    /**
     * Encodes text. With {@code matchSpecial} false, special tokens spelled out in the text are
     * tokenized as ordinary text: user content can never inject a control marker.
     */
    public List<Integer> encode(String text, boolean matchSpecial) {
        List<Integer> ids = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            AddedToken hit = addedAt(text, i, matchSpecial);
            if (hit == null) {
                i++;
                continue;
            }
            encodeOrdinary(text.substring(start, i), ids);
            ids.add(hit.id());
            i += hit.content().length();
            start = i;
        }
        encodeOrdinary(text.substring(start), ids);
        return ids;
    }

    private AddedToken addedAt(String text, int i, boolean matchSpecial) {
        for (AddedToken t : added) {
            if ((matchSpecial || !t.special()) && !t.content().isEmpty() && text.startsWith(t.content(), i)) {
                return t;
            }
        }
        return null;
    }

    private void encodeOrdinary(String text, List<Integer> ids) {
        if (text.isEmpty()) {
            return;
        }
        for (String word : preTokenizer.split(List.of(text))) {
            int[] cached = wordCache.get(word);
            if (cached == null) {
                cached = bpe(word);
                if (wordCache.size() < CACHE_LIMIT) {
                    wordCache.put(word, cached);
                }
            }
            for (int id : cached) {
                ids.add(id);
            }
        }
    }

    /** Repeatedly merges the adjacent pair with the lowest merge rank (leftmost on ties). */
    private int[] bpe(String word) {
        if (ignoreMerges && vocab.containsKey(word)) {
            return new int[] {vocab.get(word)};
        }
        List<String> symbols = new ArrayList<>(word.length());
        word.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            int bestAt = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer r = mergeRanks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    bestAt = i;
                }
            }
            if (bestAt < 0) {
                break;
            }
            symbols.set(bestAt, symbols.get(bestAt) + symbols.get(bestAt + 1));
            symbols.remove(bestAt + 1);
        }
        int[] ids = new int[symbols.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(symbols.get(i));
            if (id == null) {
                throw new IllegalArgumentException("tokenizer.json: no token for byte-level symbol (vocabulary incomplete)");
            }
            ids[i] = id;
        }
        return ids;
    }

    /** The bytes a token stands for; special tokens are skipped (they are control markers, not text). */
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            return new byte[0];
        }
        AddedToken addedToken = addedById.get(id);
        if (addedToken != null) {
            return addedToken.special() ? new byte[0] : addedToken.content().getBytes(StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ByteLevel.decode(idToToken[id], out)) {
            return idToToken[id].getBytes(StandardCharsets.UTF_8);
        }
        return out.toByteArray();
    }

    /** Decodes ids to text, skipping special tokens; invalid UTF-8 becomes U+FFFD. */
    public String decode(List<Integer> ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
