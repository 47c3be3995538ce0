package io.cleargate.refusal.detector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RefusalDetectorTest {

    private final RefusalDetector detector = new RefusalDetector();

    @Test
    void deepSeeksEnglishCannedAnswerIsADeflectionWithItsSentenceAsEvidence() {
        String answer = "Sorry, that's beyond my current scope. Let's talk about something else.";
        RefusalVerdict v = detector.detect(answer, "stop");
        assertEquals(RefusalKind.DEFLECTION, v.kind());
        assertEquals("en", v.language());
        assertTrue(v.score() >= 0.9, "score " + v.score());
        assertTrue(answer.substring(v.start(), v.end()).contains("scope") || answer.substring(v.start(), v.end()).contains("something else"));
    }

    @Test
    void deepSeeksChineseCannedAnswerIsADeflection() {
        RefusalVerdict v = detector.detect("你好，这个问题我暂时无法回答，让我们换个话题再聊聊吧。", "stop");
        assertEquals(RefusalKind.DEFLECTION, v.kind());
        assertEquals("zh", v.language());
        assertEquals("zh.canned", v.cue());
    }

    @Test
    void aPolicyStyleRefusalWithAnOfferIsARefusal() {
        RefusalVerdict v = detector.detect("I'm sorry, but I can't help with that. If you have other questions, feel free to ask.", "stop");
        assertEquals(RefusalKind.REFUSAL, v.kind());
        assertEquals(0, v.start());
        assertEquals("I'm sorry, but I can't help with that.".length(), v.end());
    }

    @Test
    void declineThenAnswerAtLengthIsAPartialAnswer() {
        RefusalVerdict v = detector.detect("I can't give personalized legal advice, but I can explain how deposits generally work: the "
                + "landlord must return the deposit within a fixed period after the lease ends, minus documented deductions for "
                + "damage beyond normal wear and tear, and must list every deduction.", "stop");
        assertEquals(RefusalKind.PARTIAL, v.kind());
    }

    @Test
    void anAnswerThatQuotesARefusalIsNotOne() {
        RefusalVerdict v = detector.detect("When a chatbot replies \"I'm sorry, but I can't help with that,\" the request usually "
                + "tripped a safety classifier.", "stop");
        assertEquals(RefusalKind.NONE, v.kind());
        assertEquals(0.0, v.score());
    }

    @Test
    void idiomsThatLookLikeRefusalsAreAnswers() {
        assertFalse(detector.detect("I can't stress enough how important backups are: test them monthly.", "stop").declined());
        assertFalse(detector.detect("I can't help but notice that your loop never increments i.", "stop").declined());
        assertFalse(detector.detect("Je ne peux pas m'empêcher de remarquer que la boucle ne s'arrête jamais.", "stop").declined());
    }

    @Test
    void aRefusalDeepInsideALongAnswerDoesNotDecide() {
        String answer = "Photosynthesis turns light into chemical energy. Plants take in carbon dioxide. They release oxygen. "
                + "Chlorophyll absorbs red and blue light. I can't answer that part with certainty, since studies differ.";
        assertFalse(detector.detect(answer, "stop").declined());
    }

    @Test
    void upstreamContentFilterIsReportedWhateverTheText() {
        RefusalVerdict v = detector.detect("The events of that night began when", "content_filter");
        assertEquals(RefusalKind.CONTENT_FILTER, v.kind());
        assertEquals(1.0, v.score());
    }

    @Test
    void anEmptyOrBlankAnswerIsAnEmptyCutoff() {
        assertEquals(RefusalKind.EMPTY_CUTOFF, detector.detect("", "length").kind());
        assertEquals(RefusalKind.EMPTY_CUTOFF, detector.detect(" \n\u3000", "stop").kind());
        assertEquals(RefusalKind.EMPTY_CUTOFF, detector.detect(null, null).kind());
    }

    @Test
    void curlyApostrophesAndCaseDoNotMatter() {
        assertEquals(RefusalKind.REFUSAL, detector.detect("I CAN’T ASSIST WITH THAT REQUEST.", "stop").kind());
    }

    @Test
    void onlyTheStartOfAVeryLongAnswerIsRead() {
        String answer = "Sorry, that's beyond my current scope. Let's talk about something else. ".repeat(1)
                + "x".repeat(1_000_000);
        RefusalVerdict v = detector.detect(answer, "stop");
        assertEquals(RefusalKind.DEFLECTION, v.kind());
        String late = "a".repeat(RefusalDetector.SCAN_LIMIT + 10) + " Let's talk about something else.";
        assertFalse(detector.detect(late, "stop").declined());
    }

    @Test
    void eachLanguageIsRecognised() {
        assertEquals("de", detector.detect("Dazu kann ich mich nicht äußern.", "stop").language());
        assertEquals("fr", detector.detect("Je ne peux pas répondre à cette question.", "stop").language());
        assertEquals("es", detector.detect("Lo siento, no puedo responder a esa pregunta.", "stop").language());
        assertEquals("ja", detector.detect("申し訳ありませんが、その質問にはお答えできません。", "stop").language());
    }

    @Test
    void aVerdictRejectsAnImpossibleSpanOrScore() {
        assertThrows(IllegalArgumentException.class, () -> new RefusalVerdict(RefusalKind.REFUSAL, 5, 2, 0.8, "en", "x"));
        assertThrows(IllegalArgumentException.class, () -> new RefusalVerdict(RefusalKind.REFUSAL, 0, 2, 1.5, "en", "x"));
    }

    @Test
    void templatesExpandEveryAlternativeAndDropEmptyOnes() {
        assertEquals(java.util.List.of("i can't help", "i can't assist", "help"),
                Lexicon.expand("{i can't|} {help|assist}").stream().filter(p -> !p.equals("assist")).toList());
    }

    @Test
    void everyCharIsNormalisedByTheSameRulesWhetherItIsAsciiOrNot() {
        // The rules spelled out once more: normalize() takes ASCII from a table it builds from them.
        for (int c = 0; c <= Character.MAX_VALUE; c++) {
            char ch = (char) c;
            char expected = switch (ch) {
                case '\u2019', '\u2018', '\u02bc', '\u00b4', '`' -> '\'';
                case '\n', '\r' -> '\n';
                default -> Character.isWhitespace(ch) || Character.isSpaceChar(ch) ? ' ' : Character.toLowerCase(ch);
            };
            String text = "A" + ch + "z";
            String at = "U+" + Integer.toHexString(c);
            assertEquals(expected, RefusalDetector.normalize(text, 3)[1], at);
            assertEquals(expected, RefusalDetector.normalize(new StringBuilder(text), 2)[1], at + " in a builder");
        }
    }
}
