package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalVerdict;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a verdict is shown to the caller: the {@value #HEADER} header (non-streamed responses; a
 * stream's headers leave before the answer exists) and the {@value #EXTENSION} member of the body
 * or final chunk, next to cleargate_moderation. Kind, score, language, span and cue id; never text.
 */
public final class RefusalSummary {

    public static final String HEADER = "x-cleargate-model-refusal";
    public static final String EXTENSION = "cleargate_model_refusal";

    private RefusalSummary() {}

    /** e.g. {@code kind=deflection; score=0.95; language=en; span=0-38; cue=en.canned} */
    public static String header(RefusalVerdict v) {
        return String.format(Locale.ROOT, "kind=%s; score=%.2f; language=%s; span=%d-%d; cue=%s", v.kind().id(), v.score(),
                v.language(), v.start(), v.end(), v.cue());
    }

    public static Map<String, Object> extension(RefusalVerdict v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", v.kind().id());
        m.put("declined", v.declined());
        m.put("score", v.score());
        m.put("language", v.language());
        m.put("start", v.start());
        m.put("end", v.end());
        m.put("cue", v.cue());
        m.put("source", "model");
        return m;
    }
}
