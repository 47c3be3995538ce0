package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Streaming text: complete UTF-8 only, stop sequences cut exactly, possible prefixes held back. */
class TextStreamTest {

    @Test
    void multiByteCharacterSplitAcrossTokensIsReleasedWhole() {
        Generator.TextStream s = new Generator.TextStream(List.of());
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
        assertEquals("", s.add(new byte[] {euro[0]}));
        assertEquals("", s.add(new byte[] {euro[1]}));
        assertEquals("€", s.add(new byte[] {euro[2]}));
    }

    @Test
    void stopSequenceSpanningTokensEndsTheTextBeforeIt() {
        Generator.TextStream s = new Generator.TextStream(List.of("END"));
        assertEquals("abc ", s.add("abc E".getBytes(StandardCharsets.UTF_8)));
        assertFalse(s.stopped());
        assertEquals("", s.add("N".getBytes(StandardCharsets.UTF_8)));
        assertEquals("", s.add("D tail".getBytes(StandardCharsets.UTF_8)));
        assertTrue(s.stopped());
    }

    @Test
    void heldBackPrefixIsReleasedWhenItTurnsOutNotToBeAStop() {
        Generator.TextStream s = new Generator.TextStream(List.of("\n\nUser"));
        assertEquals("hi", s.add("hi\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals("\nok", s.add("ok".getBytes(StandardCharsets.UTF_8)));
        assertEquals("", s.flush());
    }
}
