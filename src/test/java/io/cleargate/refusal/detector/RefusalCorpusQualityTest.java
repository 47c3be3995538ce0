package io.cleargate.refusal.detector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The detector keeps at least 0.9 F1 in every language, on the whole corpus and on the held-out split. */
class RefusalCorpusQualityTest {

    private static RefusalCorpus corpus;

    @BeforeAll
    static void load() throws Exception {
        corpus = RefusalCorpus.load(RefusalCorpus.defaultDir());
    }

    static Stream<String> languages() {
        return RefusalScores.LANGUAGES.stream();
    }

    @Test
    void corpusHoldsAtLeastSixHundredAnswersOverSixLanguagesWithEveryCategory() {
        long text = corpus.items().stream().filter(i -> !i.byFinishReason()).count();
        assertTrue(text >= 600, "answers judged on their text: " + text);
        for (String lang : RefusalScores.LANGUAGES) {
            for (String category : new String[] {"refusal", "deflection", "partial", "hard_negative", "answer"}) {
                assertTrue(corpus.items().stream().anyMatch(i -> i.lang().equals(lang) && i.category().equals(category)
                        && i.split().equals("test")), lang + " has held-out " + category + " answers");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("languages")
    void f1IsAtLeastNinetyPercentOnTheWholeCorpus(String lang) {
        var c = new RefusalScores().score(corpus, i -> true, null).get(lang);
        assertTrue(c.f1() >= 0.9, lang + " F1 " + c.f1() + " (" + c + ")");
    }

    @ParameterizedTest
    @MethodSource("languages")
    void f1IsAtLeastNinetyPercentOnTheHeldOutSplit(String lang) {
        var c = new RefusalScores().score(corpus, i -> i.split().equals("test"), null).get(lang);
        assertTrue(c.f1() >= 0.9, lang + " held-out F1 " + c.f1() + " (" + c + ")");
    }

    @Test
    void everyFinishReasonRowGetsItsExactKind() {
        assertEquals(1.0, new RefusalScores().finishReasonAccuracy(corpus));
    }
}
