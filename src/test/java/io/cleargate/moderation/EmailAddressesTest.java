package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The e-mail finder read by hand ({@link EmailAddresses}) reports what the e-mail regex reports:
 * its match end from every position of random texts, and its spans as {@code Matcher.find(from)}
 * and {@code find()} report them. The texts are glued from the pieces addresses are made of,
 * near misses and the limits of the pattern (a local part of 64 chars and of 65, labels of 63 and
 * 64, top-level domains of 24 and 25 letters, eight labels and nine), so that every way an
 * attempt can end is met.
 */
class EmailAddressesTest {

    private static final List<String> PIECES = List.of("@", " @", "@ ", " @ ", ".", " .", ". ", " . ", "..", "-", "--", "_",
            "%", "+", " ", "  ", "\n", ",", ";", "<", ">", "(", ")", "é", "ß", "\u00A0", "\u200B", "a", "Z", "x9", "q-", "-q", "9",
            "jane.doe", "j.d-o_e%x+y", "example", "com", "org", "co", "c", "de", "museum", "x1", "a-b", "a-", "-a",
            "mail.example.com", "jane@example.com", "a@b.co", "a@b.c", "a@b.com.x1", "a@b.c.d.e.f.g.h.i.jk", "a@1.2.3.4",
            "x@y.z.w.v.u.t.s.r.q.p.com", "name @ host . net", "@example.org", "user@", "user@.com", "u@h-.com", "u@-h.com",
            "l".repeat(63), "l".repeat(64), "l".repeat(65), "d".repeat(62), "d".repeat(63), "d".repeat(64),
            "t".repeat(24), "t".repeat(25), "b.".repeat(7), "b.".repeat(8), "b.".repeat(9));

    private static final String CHARS = "abcXYZ019.-_%+@ ";

    private static final Pattern PATTERN = ((PatternDetector) BuiltinDetectors.email()).probes().getFirst().finder() instanceof
            EmailAddresses e ? e.open().pattern() : null;

    private static String randomText(Random random) {
        var sb = new StringBuilder();
        int parts = 1 + random.nextInt(30);
        for (int i = 0; i < parts; i++) {
            if (random.nextInt(3) == 0) {
                int run = 1 + random.nextInt(random.nextBoolean() ? 4 : 20);
                for (int k = 0; k < run; k++) {
                    sb.append(CHARS.charAt(random.nextInt(CHARS.length())));
                }
            } else {
                sb.append(PIECES.get(random.nextInt(PIECES.size())));
            }
        }
        return sb.toString();
    }

    @Test
    void theMatchEndReadByHandIsTheRegexsFromEveryPosition() {
        assertTrue(PATTERN != null, "the e-mail detector's finder reads addresses by hand");
        var random = new Random(1416);
        int matches = 0;
        int nested = 0;
        for (int round = 0; round < 4000; round++) {
            String text = randomText(random);
            Matcher m = PATTERN.matcher(text).useTransparentBounds(true).useAnchoringBounds(false);
            for (int s = 0; s <= text.length(); s++) {
                m.region(s, text.length());
                int expected = m.lookingAt() ? m.end() : -1;
                int at = s;
                assertEquals(expected, EmailAddresses.end(text, s), () -> "match end from " + at + " in '" + text + "'");
                if (expected >= 0) {
                    matches++;
                    String domain = text.substring(text.indexOf('@', s), expected);
                    nested += domain.chars().filter(c -> c == '.').count() > 1 ? 1 : 0;
                }
            }
        }
        assertTrue(matches > 2000 && nested > 200, "the texts hold addresses, some with several labels: " + matches + ", " + nested);
    }

    @Test
    void theFinderReportsWhatMatcherFindReportsFromAnyStart() {
        var finder = (EmailAddresses) ((PatternDetector) BuiltinDetectors.email()).probes().getFirst().finder();
        var random = new Random(1417);
        int matches = 0;
        for (int round = 0; round < 4000; round++) {
            String text = randomText(random);
            int from = round % 3 == 0 ? random.nextInt(text.length() + 1) : 0;
            List<String> expected = new ArrayList<>();
            Matcher m = PATTERN.matcher(text);
            for (boolean found = m.find(from); found; found = m.find()) {
                expected.add(m.start() + ":" + m.end());
            }
            List<String> actual = new ArrayList<>();
            finder.find(text, from, (s, e) -> actual.add(s + ":" + e));
            assertEquals(expected, actual, () -> "addresses in '" + text + "' from " + from);
            matches += expected.size();
        }
        assertTrue(matches > 1000, "the texts hold addresses: " + matches);
    }
}
