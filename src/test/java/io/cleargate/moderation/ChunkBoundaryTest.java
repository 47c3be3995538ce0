package io.cleargate.moderation;

import static io.cleargate.moderation.ModerationFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A secret split across chunk boundaries in every possible way never reaches the client: the
 * output stage is driven through the real Pipeline by a scripted engine, and the test checks the
 * text a client would have received.
 */
class ChunkBoundaryTest {

    private static final String AWS = "AKIAIOSFODNN7EXAMPLE";
    private static final String TEXT = "Use the key " + AWS + " for the deploy step, then rotate it.";
    private static final String EXPECTED = "Use the key [SECRET_1] for the deploy step, then rotate it.";
    private static ModerationService service;

    @BeforeAll
    static void load() {
        service = ModerationFixtures.service();
    }

    private static String client(List<String> chunks) {
        var sink = run(service, "hello", chunks, null);
        assertTrue(sink.ended, "stream did not end normally");
        return sink.text();
    }

    private static void assertNoFragment(String secret, String received, String how) {
        for (int len = 6; len <= secret.length(); len++) {
            for (int i = 0; i + len <= secret.length(); i++) {
                String fragment = secret.substring(i, i + len);
                assertFalse(received.contains(fragment), () -> how + ": fragment '" + fragment + "' reached the client");
            }
        }
    }

    @Test
    void secretSplitAtEverySinglePointIsRedactedIdentically() {
        for (int i = 0; i <= TEXT.length(); i++) {
            String got = client(List.of(TEXT.substring(0, i), TEXT.substring(i)));
            assertEquals(EXPECTED, got, "split at " + i);
        }
    }

    @Test
    void secretSplitAtEveryPairOfPointsIsRedactedIdentically() {
        int from = TEXT.indexOf(AWS) - 4;
        int to = from + AWS.length() + 8;
        for (int i = from; i <= to; i++) {
            for (int j = i; j <= to; j++) {
                String got = client(List.of(TEXT.substring(0, i), TEXT.substring(i, j), TEXT.substring(j)));
                assertEquals(EXPECTED, got, "split at " + i + "," + j);
            }
        }
    }

    @Test
    void everyCharAsItsOwnChunkIsRedacted() {
        List<String> chars = new ArrayList<>();
        TEXT.chars().forEach(c -> chars.add(String.valueOf((char) c)));
        assertEquals(EXPECTED, client(chars));
    }

    @Test
    void randomMultiWaySplitsNeverLeakAFragment() {
        var random = new Random(42);
        String padded = "x".repeat(300) + " " + TEXT + " " + "y".repeat(200);
        for (int round = 0; round < 300; round++) {
            List<String> chunks = new ArrayList<>();
            int at = 0;
            while (at < padded.length()) {
                int n = 1 + random.nextInt(random.nextBoolean() ? 4 : 40);
                chunks.add(padded.substring(at, Math.min(padded.length(), at + n)));
                at += n;
            }
            String got = client(chunks);
            assertNoFragment(AWS, got, "round " + round);
            assertTrue(got.contains("[SECRET_1]"));
        }
    }

    @Test
    void obfuscatedSecretSplitAtEveryPointNeverLeaks() {
        // zero-width joiners, a Cyrillic homoglyph and fullwidth digits inside the key
        String obfuscated = "\u0410KIA\u200DIOSF\u200BODNN\uFF17EXAMPLE";
        String text = "key: " + obfuscated + " end";
        for (int i = 0; i <= text.length(); i++) {
            String got = client(List.of(text.substring(0, i), text.substring(i)));
            assertEquals("key: [SECRET_1] end", got, "split at " + i);
        }
    }

    @Test
    void privateKeyBlockSplitAnywhereEndsTheStreamWithContentFilter() {
        String key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7s9xq1\nZ3Kk9\n-----END RSA PRIVATE KEY-----";
        String text = "Here you go:\n" + key + "\nKeep it safe.";
        for (int i = 0; i <= text.length(); i += 3) {
            var sink = run(service, "hello", List.of(text.substring(0, i), text.substring(i)), null);
            assertEquals("content_filter", sink.last().finishReason(), "split at " + i);
            assertTrue(sink.last().endOfStream());
            assertEquals("Here you go:\n", sink.text(), "split at " + i);
            @SuppressWarnings("unchecked")
            var ext = (Map<String, Object>) sink.last().extensions().get("cleargate_moderation");
            assertEquals(true, ext.get("blocked"));
            assertFalse(ext.toString().contains("MIIE"), "the explanation never contains the matched text");
        }
    }

    @Test
    void emailGrowingAcrossManySmallChunksIsRedactedWhole() {
        String text = "Contact: " + "averyveryverylonglocalpart.with.dots" + "@mail.subdomain.example.org please.";
        List<String> chunks = new ArrayList<>();
        for (int i = 0; i < text.length(); i += 2) {
            chunks.add(text.substring(i, Math.min(text.length(), i + 2)));
        }
        assertEquals("Contact: [EMAIL_1] please.", client(chunks));
    }
}
