package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Output holds back only what could still become a match: text that no detector could still
 * extend goes out in the chunk that brought it, and what could grow waits until it is decided.
 */
class HoldBackTest {

    private static StreamModerator stream() {
        return new StreamModerator(ModerationFixtures.rules("default"), new Placeholders());
    }

    @Test
    void proseThatEndsInPunctuationIsReleasedInTheChunkThatBroughtIt() {
        var stream = stream();
        for (String chunk : List.of("Okay!", " Here is the plan;", " restart the job,", " then check (twice)!")) {
            assertEquals(chunk, stream.push(chunk, false).text());
        }
    }

    @Test
    void aWordThatCouldStillGrowIntoASecretIsHeldUntilItIsDecided() {
        var stream = stream();
        assertEquals("Use: ", stream.push("Use: AKIA", false).text());
        assertEquals("", stream.push("IOSFODNN7", false).text());
        assertEquals("[SECRET_1]; done", stream.push("EXAMPLE; done", false).text() + stream.push("", true).text());
    }

    @Test
    void aStartedAddressIsHeldAndRedactedWhole() {
        var stream = stream();
        var out = new StringBuilder();
        for (String chunk : List.of("Write to jane", ".doe", "@example", ".com", " today!")) {
            out.append(stream.push(chunk, false).text());
        }
        out.append(stream.push("", true).text());
        assertEquals("Write to [EMAIL_1] today!", out.toString());
    }

    @Test
    void aSecretHiddenBySurrogatePairsSplitBetweenTheirHalvesNeverLeaks() {
        // Unicode tag characters (surrogate pairs, invisible) inside a cloud key
        String key = "AKIA\uDB40\uDC41IOSFODNN\uDB40\uDC7F7EXAMPLE";
        String text = "Note: " + key + " -- thanks.";
        for (int size = 1; size <= 3; size++) {
            var stream = stream();
            var out = new StringBuilder();
            for (int i = 0; i < text.length(); i += size) {
                out.append(stream.push(text.substring(i, Math.min(text.length(), i + size)), false).text());
            }
            out.append(stream.push("", true).text());
            assertEquals("Note: [SECRET_1] -- thanks.", out.toString(), "chunks of " + size);
        }
    }

    @Test
    void aPrivateKeyBlockWaitingForItsEndLineIsHeldWholeAndBlocked() {
        var stream = stream();
        List<String> released = new ArrayList<>();
        released.add(stream.push("Here:\n-----BEGIN RSA PRI", false).text());
        released.add(stream.push("VATE KEY-----\n", false).text());
        for (int i = 0; i < 200; i++) {
            released.add(stream.push("MIIEpAIBAAKCAQEA7s9x\n", false).text());
        }
        released.add(stream.push("-----END RSA PRIVATE KEY-----\nbye", false).text());
        // a long hold-back is rescanned once it grew by a quarter, at the latest at the end
        var last = stream.push("", true);
        released.add(last.text());
        assertEquals("Here:\n", String.join("", released));
        assertTrue(last.blocked() != null, "the complete block is blocked");
        assertFalse(String.join("", released).contains("MIIE"));
    }
}
