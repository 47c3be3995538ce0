package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The views are built with flat arrays, the clean view of an ASCII text is the text itself and
 * derived views keep only clean indexes; every view char must still map back to the same original
 * span as the straightforward construction below (one code point at a time, each char with its
 * own start and end, a whitespace run in the lower view widened over the whole run).
 */
class ViewsTest {

    /** A view as text plus each char's original start and end. */
    record Expected(String text, List<int[]> spans) {}

    private static Expected clean(String original) {
        var text = new StringBuilder();
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < original.length(); ) {
            int cp = original.codePointAt(i);
            int end = i + Character.charCount(cp);
            if (cp < 0x80) {
                text.append((char) cp);
                spans.add(new int[] {i, end});
            } else if (!NormalizedText.isInvisible(cp)) {
                for (char c : NormalizedText.fold(cp).toCharArray()) {
                    text.append(c);
                    spans.add(new int[] {i, end});
                }
            }
            i = end;
        }
        return new Expected(text.toString(), spans);
    }

    private static Expected lower(Expected clean) {
        var text = new StringBuilder();
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < clean.text().length(); i++) {
            char c = clean.text().charAt(i);
            int[] span = clean.spans().get(i);
            if (Character.isWhitespace(c)) {
                if (!text.isEmpty() && text.charAt(text.length() - 1) == ' ') {
                    spans.getLast()[1] = span[1];
                    continue;
                }
                c = ' ';
            }
            text.append(Character.toLowerCase(c));
            spans.add(span.clone());
        }
        return new Expected(text.toString(), spans);
    }

    private static Expected filtered(Expected clean, boolean alnum) {
        var text = new StringBuilder();
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < clean.text().length(); i++) {
            char c = clean.text().charAt(i);
            boolean keep = alnum ? Character.isLetterOrDigit(c)
                    : !Character.isWhitespace(c) && "*|`~\u00B7\u2022'\"".indexOf(c) < 0;
            if (keep) {
                text.append(alnum ? Character.toLowerCase(c) : c);
                spans.add(clean.spans().get(i));
            }
        }
        return new Expected(text.toString(), spans);
    }

    private static void assertView(Expected expected, View actual, String original) {
        assertEquals(expected.text(), actual.text, () -> actual.name + " of '" + original + "'");
        for (int i = 0; i < expected.spans().size(); i++) {
            int k = i;
            assertEquals(expected.spans().get(i)[0], actual.originalStart(i), () -> actual.name + " start " + k + " of '" + original + "'");
            assertEquals(expected.spans().get(i)[1], actual.originalEnd(i), () -> actual.name + " end " + k + " of '" + original + "'");
        }
        for (int offset = 0; offset <= original.length(); offset++) {
            int count = 0;
            while (count < expected.spans().size() && expected.spans().get(count)[0] < offset) {
                count++;
            }
            assertEquals(count, actual.countBefore(offset), actual.name + " count before " + offset);
        }
    }

    private static final List<String> PIECES = List.of("a", "B", "z9", " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u2003", "é",
            "É", "ﬁ", "Ａ", "а", "\u200B", "\u202E", "\uFE0F", "\uDB40\uDC41", "😀", "𝐀", "٣", "ß", "İ", "*", "|", "`", "'", "\"",
            "·", "•", "-", "_", "@", ".", "ǅ", "Σ", "\u0301", "x\u0301");

    @Test
    void everyViewCharMapsToTheSameOriginalSpanAsTheCharByCharConstruction() {
        var random = new Random(30);
        List<String> texts = new ArrayList<>(List.of("", "plain ascii text", "   leading and trailing   ", "\u200B", "é"));
        for (int round = 0; round < 3000; round++) {
            var sb = new StringBuilder();
            for (int i = random.nextInt(25); i > 0; i--) {
                sb.append(PIECES.get(random.nextInt(PIECES.size())));
            }
            texts.add(sb.toString());
        }
        for (String original : texts) {
            var normalized = NormalizedText.of(original);
            Expected clean = clean(original);
            assertView(clean, normalized.clean, original);
            assertView(lower(clean), normalized.lower(), original);
            assertView(filtered(clean, false), normalized.compact(), original);
            assertView(filtered(clean, true), normalized.alnum(), original);
        }
    }

    /** A detector looks its views up by number once it has their names: each number is the view of that name. */
    /**
     * The clean and compact views' digit runs found in one pass over the clean chars are those a
     * pass over each view finds: texts glued from digits, separators the compact view drops
     * (spaces, tabs, "*", "|", quotes, "·", NBSP, an em space), ones it keeps ("-", ".", "/"), letters,
     * non-ASCII digits and letters, of every length from empty to a few hundred chars.
     */
    @Test
    void bothViewsDigitRunsFromOnePassAreEachViewsOwn() {
        var random = new Random(34);
        List<String> pieces = List.of("0", "7", "42", "2026", "4644", " ", "  ", "\t", "\n", "*", "|", "'", "\"", "·", "\u00A0",
                "\u2003", "-", ".", "/", "a", "Z", "é", "٣", "\u200B", "ﬁ", "😀", "+", "(");
        int joined = 0;
        int runs = 0;
        for (int round = 0; round < 5_000; round++) {
            var sb = new StringBuilder();
            int parts = random.nextInt(round % 10 == 0 ? 200 : 30);
            for (int p = 0; p < parts; p++) {
                sb.append(pieces.get(random.nextInt(pieces.size())));
            }
            String original = sb.toString();
            var text = NormalizedText.of(original);
            DigitRuns[] both = DigitRuns.ofCleanAndCompact(text.cleanChars(), text.clean.length(), NormalizedText::keptInCompact);
            DigitRuns clean = DigitRuns.of(text.clean.text);
            DigitRuns compact = DigitRuns.of(text.compact().text);
            assertSameRuns(clean, both[0], "clean view of '" + original + "'");
            assertSameRuns(compact, both[1], "compact view of '" + original + "'");
            assertSameRuns(clean, text.digits(text.clean), "the text's clean runs of '" + original + "'");
            assertSameRuns(compact, text.digits(text.compact()), "the text's compact runs of '" + original + "'");
            joined += clean.count() - compact.count();
            runs += compact.count();
        }
        assertTrue(joined > 2_000, "clean runs joined in the compact view: " + joined);
        assertTrue(runs > 10_000, "compact runs: " + runs);
    }

    private static void assertSameRuns(DigitRuns expected, DigitRuns actual, String what) {
        assertEquals(expected.count(), actual.count(), () -> "runs of the " + what);
        for (int k = 0; k < expected.count(); k++) {
            int run = k;
            assertEquals(expected.start(k), actual.start(k), () -> "start of run " + run + " of the " + what);
            assertEquals(expected.end(k), actual.end(k), () -> "end of run " + run + " of the " + what);
        }
    }

    @Test
    void everyViewsNumberNamesTheViewOfItsName() {
        var text = NormalizedText.of("Some Text, with 12 34 and ﬁ");
        for (String name : List.of("clean", "lower", "compact", "alnum")) {
            assertEquals(name, text.view(NormalizedText.viewIndex(name)).name);
            assertEquals(text.view(name), text.view(NormalizedText.viewIndex(name)));
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> NormalizedText.viewIndex("upper"));
    }

    /**
     * {@link NormalizedText#of} skips ASCII runs a block of chars at a time: the run's end is the
     * first char of U+0080 or above (U+007F is ASCII) wherever it falls in or across a block, and
     * long texts with sparse non-ASCII chars normalise as the char-by-char construction does.
     */
    @Test
    void anAsciiRunEndsAtItsFirstNonAsciiCharWhereverItFallsInABlock() {
        var random = new Random(33);
        char[] odd = {'\u0080', '\u00FF', '\u0100', '\u00E9', '\u200B', '\uFFFF', '\uD83D'};
        for (int round = 0; round < 20_000; round++) {
            char[] chars = new char[random.nextInt(80)];
            int every = 1 + random.nextInt(60);
            for (int i = 0; i < chars.length; i++) {
                chars[i] = random.nextInt(every) == 0 ? odd[random.nextInt(odd.length)] : (char) random.nextInt(0x80);
            }
            int from = chars.length == 0 ? 0 : random.nextInt(chars.length + 1);
            int expected = from;
            while (expected < chars.length && chars[expected] < 0x80) {
                expected++;
            }
            assertEquals(expected, NormalizedText.asciiRunEnd(chars, from, chars.length),
                    "from " + from + " in " + java.util.Arrays.toString(chars));
        }
        for (int round = 0; round < 300; round++) {
            var sb = new StringBuilder();
            for (int i = 200 + random.nextInt(400); i > 0; i--) {
                sb.append(random.nextInt(20) == 0 ? PIECES.get(random.nextInt(PIECES.size())) : "plain ASCII text, ");
            }
            String original = sb.toString();
            Expected expected = clean(original);
            View actual = NormalizedText.of(original).clean;
            assertEquals(expected.text(), actual.text);
            for (int i = 0; i < expected.spans().size(); i++) {
                assertEquals(expected.spans().get(i)[0], actual.originalStart(i), "start of clean char " + i);
                assertEquals(expected.spans().get(i)[1], actual.originalEnd(i), "end of clean char " + i);
            }
        }
    }

    /**
     * A pass may read the letters-only view from the clean view's chars ({@link NormalizedText#alnumChar},
     * {@link NormalizedText#alnumClass}):
     * the chars it keeps, in order, are the view. And every char the lower-case view writes as a
     * letter is kept as that letter, so a word of the lower-case view is one of the letters-only view.
     */
    @Test
    void theLettersOnlyViewReadFromTheCleanCharsIsTheViewAndHoldsEveryLowerCaseLetter() {
        for (int c = 0; c <= Character.MAX_VALUE; c++) {
            char lower = NormalizedText.lowerChar((char) c);
            char kept = NormalizedText.alnumChar((char) c);
            if (lower >= 'a' && lower <= 'z') {
                assertEquals(lower, kept, "U+" + Integer.toHexString(c));
            }
            int letter = kept >= 'a' && kept <= 'z' ? kept - 'a' + 1 : 0;
            assertEquals(kept == 0 ? 0 : NormalizedText.ALNUM_KEPT | letter, NormalizedText.alnumClass((char) c),
                    "class of U+" + Integer.toHexString(c));
        }
        var random = new Random(32);
        for (int round = 0; round < 3000; round++) {
            var sb = new StringBuilder();
            for (int i = random.nextInt(25); i > 0; i--) {
                sb.append(PIECES.get(random.nextInt(PIECES.size())));
            }
            var normalized = NormalizedText.of(sb.toString());
            char[] clean = normalized.cleanChars();
            var read = new StringBuilder();
            var lower = new StringBuilder();
            for (int i = 0; i < normalized.clean.length(); i++) {
                char kept = NormalizedText.alnumChar(clean[i]);
                if (kept != 0) {
                    read.append(kept);
                }
                lower.append(NormalizedText.lowerChar(clean[i]));
            }
            assertEquals(normalized.alnum().text, read.toString(), sb.toString());
            assertEquals(normalized.lower().text, lower.toString().replaceAll(" +", " "), sb.toString());
        }
    }

    /**
     * A whole text maps its first matches back from the builders' marks, without an index table
     * ({@link View#LOCATE_FROM_LENGTH}); on texts spanning many marks, every char found that way
     * maps where the table maps it.
     */
    @Test
    void everyViewCharFoundFromTheMarksIsTheOneTheTableNames() {
        var random = new Random(31);
        for (int round = 0; round < 200; round++) {
            var sb = new StringBuilder();
            // some long enough that a whole text's first matches are mapped from the marks
            for (int i = round < 20 ? 3000 + random.nextInt(3000) : random.nextInt(400); i > 0; i--) {
                sb.append(PIECES.get(random.nextInt(PIECES.size())));
                if (random.nextInt(30) == 0) {
                    sb.append(" ".repeat(random.nextInt(150))); // whitespace runs across marks
                }
            }
            String original = sb.toString();
            var normalized = NormalizedText.of(original);
            Expected clean = clean(original);
            for (View view : List.of(normalized.lower(), normalized.compact(), normalized.alnum())) {
                Expected expected = switch (view.name) {
                    case "lower" -> lower(clean);
                    case "compact" -> filtered(clean, false);
                    default -> filtered(clean, true);
                };
                for (int j = 0; j < view.length(); j++) {
                    int k = j;
                    assertEquals(expected.spans().get(j)[0], normalized.clean.originalStart(view.locateInParent(j)),
                            () -> view.name + " char " + k + " of '" + original + "'");
                }
                for (int j = 0; j < view.length(); j++) { // the first lookups from the marks, then the table
                    int k = j;
                    assertEquals(expected.spans().get(j)[0], view.originalStart(j), () -> view.name + " start " + k);
                    assertEquals(expected.spans().get(j)[1], view.originalEnd(j), () -> view.name + " end " + k);
                }
            }
        }
    }
}
