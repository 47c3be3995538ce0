package io.cleargate.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A stream's text frames written from their parts are the bytes Jackson writes for the frame's maps. */
class TextFramesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] base(String id, String model) throws Exception {
        var base = new LinkedHashMap<String, Object>();
        base.put("id", id);
        base.put("object", "chat.completion.chunk");
        base.put("created", 1764554400L);
        base.put("model", model);
        return JSON.writeValueAsBytes(base);
    }

    /** The frame as ChatSinks.Sse builds it for Jackson. */
    private static byte[] viaJackson(String id, String model, int index, String text) throws Exception {
        var delta = new LinkedHashMap<String, Object>();
        delta.put("content", text);
        var choice = new LinkedHashMap<String, Object>();
        choice.put("index", index);
        choice.put("delta", delta);
        choice.put("finish_reason", null);
        choice.put("logprobs", null);
        var frame = new LinkedHashMap<String, Object>();
        frame.put("id", id);
        frame.put("object", "chat.completion.chunk");
        frame.put("created", 1764554400L);
        frame.put("model", model);
        frame.put("choices", List.of(choice));
        return JSON.writeValueAsBytes(frame);
    }

    private static byte[] joined(byte[][] parts) {
        var out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Test
    void textFramesAreByteForByteWhatJacksonWrites() throws Exception {
        String id = "chatcmpl-1a2b\"3c";
        String model = "deepseek-v3 \\ \u00e9";
        var frames = new ChatSinks.TextFrames(base(id, model));
        var texts = new java.util.ArrayList<>(List.of("Hello", " world", "", "\"quoted\" \\ back", "tab\tnew\nline\r",
                "\u0000\u0001\u001f\u007f", "caf\u00e9 \u4e2d\u6587", "emoji \ud83d\ude00 pair", "\u2028\u2029\ufeff", "</script>"));
        var random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            var text = new StringBuilder();
            for (int k = random.nextInt(40); k > 0; k--) {
                int kind = random.nextInt(5);
                text.append(switch (kind) {
                    case 0 -> (char) random.nextInt(0x20);
                    case 1 -> (char) (0x20 + random.nextInt(0x60));
                    case 2 -> (char) (0xa0 + random.nextInt(0x700));
                    case 3 -> random.nextInt(30) == 0 ? "\ud83d\ude00" : "x";
                    default -> (char) (0x3000 + random.nextInt(0x5000));
                });
            }
            texts.add(text.toString());
        }
        int compared = 0;
        for (String text : texts) {
            if (text.chars().anyMatch(c -> Character.isSurrogate((char) c))) {
                continue; // left to Jackson (next test)
            }
            for (int index : new int[] {0, 3, 12}) {
                assertArrayEquals(viaJackson(id, model, index, text), joined(frames.parts(index, text)), text);
                compared++;
            }
        }
        assertTrue(compared > 3000, "compared " + compared);
    }

    /** Jackson writes a surrogate pair as two escapes and a lone surrogate its own way: such text is its to write. */
    @Test
    void aTextWithASurrogateIsLeftToJackson() throws Exception {
        var frames = new ChatSinks.TextFrames(base("id", "m"));
        assertNull(frames.parts(0, "emoji \ud83d\ude00 pair"));
        assertNull(frames.parts(0, "half \ud83d"));
        assertNull(frames.parts(0, "\ude00 other half"));
    }
}
