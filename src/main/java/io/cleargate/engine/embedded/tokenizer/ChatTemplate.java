package io.cleargate.engine.embedded.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * DeepSeek's chat prompt format, written in Java from the semantics of the templates shipped in
 * tokenizer_config.json (the Jinja template itself is never evaluated).
 *
 * <ul>
 *   <li>V3 style, when the vocabulary has {@code <｜User｜>} and {@code <｜Assistant｜>}:
 *   {@code BOS system <｜User｜>u1<｜Assistant｜>a1 EOS <｜User｜>u2<｜Assistant｜>}.</li>
 *   <li>V2 style otherwise: {@code BOS system\n\nUser: u1\n\nAssistant: a1 EOS User: u2\n\nAssistant:}.</li>
 * </ul>
 * Markers (BOS, EOS, User/Assistant tokens) are inserted as ids; message text is encoded with
 * special-token matching off, so content cannot forge a marker. Text between two markers is
 * encoded as one string, as the rendered template would be.
 */
public final class ChatTemplate {

    public enum Style { V3, V2 }

    private final Tokenizer tokenizer;
    private final Style style;
    private final Integer bos;
    private final int eos;
    private final Integer user;
    private final Integer assistant;

    public ChatTemplate(Tokenizer tokenizer, String bosToken, String eosToken, boolean addBos) {
        this.tokenizer = tokenizer;
        this.eos = tokenizer.tokenId(eosToken)
                .orElseThrow(() -> new IllegalArgumentException("tokenizer has no eos token " + eosToken));
        this.bos = addBos && bosToken != null
                ? tokenizer.tokenId(bosToken).orElseThrow(() -> new IllegalArgumentException("tokenizer has no bos token " + bosToken))
                : null;
        this.user = tokenizer.tokenId("<｜User｜>").orElse(null);
        this.assistant = tokenizer.tokenId("<｜Assistant｜>").orElse(null);
        this.style = user != null && assistant != null ? Style.V3 : Style.V2;
    }

    /** Reads bos_token, eos_token and add_bos_token from tokenizer_config.json (strings or {content: ...}). */
    public static ChatTemplate load(Path tokenizerConfig, Tokenizer tokenizer) {
        try {
            JsonNode c = new ObjectMapper().readTree(Files.readString(tokenizerConfig));
            return new ChatTemplate(tokenizer, tokenText(c.path("bos_token")), tokenText(c.path("eos_token")),
                    c.path("add_bos_token").asBoolean(true));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerConfig, e);
        }
    }

    private static String tokenText(JsonNode node) {
        if (node.isObject()) {
            return node.path("content").asText();
        }
        return node.isTextual() ? node.asText() : null;
    }

    public Style style() {
        return style;
    }

    public int eosId() {
        return eos;
    }

    /** Token ids of the conversation followed by the assistant generation prompt. */
    public List<Integer> encode(List<ChatMessage> messages) {
        Builder b = new Builder();
        if (bos != null) {
            b.marker(bos);
        }
        // System messages first (DeepSeek's templates collect them at the start).
        List<String> systems = messages.stream().filter(m -> m.role() == ChatMessage.Role.SYSTEM).map(ChatMessage::content).toList();
        if (!systems.isEmpty()) {
            b.text(String.join("\n\n", systems));
            if (style == Style.V2) {
                b.text("\n\n");
            }
        }
        for (ChatMessage m : messages) {
            switch (m.role()) {
                case SYSTEM -> { }
                case USER -> {
                    if (style == Style.V3) {
                        b.marker(user);
                        b.text(m.content());
                    } else {
                        b.text("User: " + m.content() + "\n\n");
                    }
                }
                case ASSISTANT -> {
                    if (style == Style.V3) {
                        b.marker(assistant);
                    } else {
                        b.text("Assistant: ");
                    }
                    b.text(m.content());
                    b.marker(eos);
                }
                // The embedded engine refuses tool conversations before it formats one (EmbeddedEngine.unsupported).
                case TOOL -> throw new IllegalArgumentException("tool messages are not supported by this chat template");
            }
        }
        if (style == Style.V3) {
            b.marker(assistant);
        } else {
            b.text("Assistant:");
        }
        return b.finish();
    }

    private final class Builder {
        private final List<Integer> ids = new ArrayList<>();
        private final StringBuilder pending = new StringBuilder();

        void text(String s) {
            pending.append(s);
        }

        void marker(int id) {
            flush();
            ids.add(id);
        }

        List<Integer> finish() {
            flush();
            return ids;
        }

        private void flush() {
            if (!pending.isEmpty()) {
                ids.addAll(tokenizer.encode(pending.toString(), false));
                pending.setLength(0);
            }
        }
    }
}
