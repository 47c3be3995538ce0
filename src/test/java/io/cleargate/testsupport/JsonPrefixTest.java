package io.cleargate.testsupport;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JsonPrefixTest {

    @Test
    void everyBeginningOfAValidDocumentIsAPrefix() {
        String doc = " {\"a\": [1, -2.5e+3, true, null, \"x\\\\y\\u00e9\"], \"b\": {\"c\": false}, \"d\": \"\\\"\"}\n";
        for (int end = 0; end <= doc.length(); end++) {
            assertTrue(JsonPrefix.isPrefix(doc.substring(0, end)), doc.substring(0, end));
        }
    }

    @Test
    void aTextNoContinuationCouldCompleteIsNotAPrefix() {
        for (String bad : List.of("x", "{a", "{\"a\" 1", "{\"a\":}", "[1,]", "[1 2", "{\"a\":1}}", "{} {",
                "tru e", "nul1", "01", "-x", "1.e", "\"\\q\"", "\"\\u12g4\"", "\"a\nb\"", "{\"a\":1,}", "]")) {
            assertFalse(JsonPrefix.isPrefix(bad), bad);
        }
    }

    @Test
    void textStoppedInsideAStringOrNumberOrLiteralIsStillAPrefix() {
        for (String cut : List.of("{\n\" like Gip", "{\"k\": \"\\u00", "{\"k\": -", "{\"k\": 1.", "[tr", "{\"k\": 12e",
                "{\"a\":[{\"b\":[")) {
            assertTrue(JsonPrefix.isPrefix(cut), cut);
        }
    }
}
