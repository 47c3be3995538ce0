package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A secret glued to itself and repeated thousands of times (a model looping on a key it saw)
 * must not leak any part of itself, streamed in chunks of any size or answered whole: every copy
 * is redacted or the response is blocked, by the secret rules alone (the high-entropy rule is a
 * tenant's choice, often switched off as noisy). Word-boundary checks that keep the patterns
 * precise on prose failed between glued copies: a JWT, a Slack, Stripe, Hugging Face or
 * fine-grained GitHub token, or an OAuth token glued to itself was released in part.
 */
class GluedSecretsTest {

    private static final int COPIES = 2000;

    @ParameterizedTest
    @ValueSource(strings = {
        "AKIAIOSFODNN7EXAMPLE",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
        "ya29.a0AfH6SMBx7Yq2kQ9rT3vLw8ZpX1cN4eU6",
        "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        "glpat-A1b2C3d4E5f6G7h8I9j0",
        "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0",
        "hf_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7",
        "npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    })
    void aSecretGluedToItselfThousandsOfTimesNeverLeaksAnyPart(String secret) {
        String text = "Here it is: " + secret.repeat(COPIES) + " -- done.";
        var withoutEntropy = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of("secret-high-entropy", "off"));
        for (RuleSet rules : List.of(ModerationFixtures.rules("default"), withoutEntropy)) {
            String which = rules == withoutEntropy ? "secret rules alone, " : "default profile, ";
            assertNoPartLeaks(secret, moderate(rules, text, null, text.length(), text.length()), which + "whole");
            SplittableRandom random = new SplittableRandom(secret.hashCode());
            for (int[] sizes : List.of(new int[] {1, 1}, new int[] {7, 7}, new int[] {64, 64}, new int[] {1, 300})) {
                assertNoPartLeaks(secret, moderate(rules, text, random, sizes[0], sizes[1]),
                        which + "chunks of " + sizes[0] + "-" + sizes[1]);
            }
        }
    }

    /** Streams {@code text} in chunks of {@code min} to {@code max} chars (random sizes when a random is given). */
    private static String moderate(RuleSet rules, String text, SplittableRandom random, int min, int max) {
        var stream = new StreamModerator(rules, new Placeholders());
        var out = new StringBuilder();
        for (int i = 0; i < text.length() && !stream.ended(); ) {
            int size = random == null ? min : random.nextInt(min, max + 1);
            int end = Math.min(text.length(), i + size);
            out.append(stream.push(text.substring(i, end), false).text());
            i = end;
        }
        out.append(stream.push("", true).text());
        return out.toString();
    }

    /** No eight characters of the secret in a row reach the client. */
    private static void assertNoPartLeaks(String secret, String released, String how) {
        assertTrue(released.startsWith("Here it is: "), how + ": " + head(released));
        for (int i = 0; i + 8 <= secret.length(); i++) {
            String part = secret.substring(i, i + 8);
            int at = released.indexOf(part);
            if (at >= 0) {
                fail(how + ": '" + part + "' of the secret was released at " + at + " of " + released.length()
                        + ": ..." + released.substring(Math.max(0, at - 40), Math.min(released.length(), at + 60)) + "...");
            }
        }
        assertEquals(-1, released.indexOf(secret), how);
    }

    private static String head(String s) {
        return s.substring(0, Math.min(200, s.length()));
    }
}
