package io.cleargate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReleasedTextTest {

    @Test
    void anAnswerInOneChunkIsKeptAsItCame() {
        var text = new ReleasedText();
        String answer = "The quarterly report shows growth in every region.";
        text.append(answer);
        text.append(""); // a final chunk without text
        assertSame(answer, text.toString());
        assertFalse(text.isEmpty());
    }

    @Test
    void chunksAddUpInOrderWhateverTheirSizes() {
        var text = new ReleasedText();
        assertTrue(text.isEmpty());
        assertEquals("", text.toString());
        text.append("");
        text.append("Hel");
        text.append("");
        text.append("lo, ");
        text.append("x".repeat(500));
        text.append("!");
        assertEquals("Hello, " + "x".repeat(500) + "!", text.toString());
        assertFalse(text.isEmpty());
    }
}
