package io.cleargate.refusal.detector;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The detector's verdict on one answer.
 *
 * @param kind     what the model did
 * @param start    start of the evidence (the sentence holding the cue), a char offset into the answer; 0 when none
 * @param end      end of the evidence, exclusive; equal to start when there is no textual evidence
 * @param score    confidence in [0, 1]; 0 for {@link RefusalKind#NONE}
 * @param language the answer's language (en, zh, de, fr, es, ja) or "und" when unknown
 * @param cue      the id of the cue that decided (for example "en.refuse"), never the answer's text
 */
public record RefusalVerdict(RefusalKind kind, int start, int end, double score, String language, String cue) {

    public RefusalVerdict {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(language, "language");
        Objects.requireNonNull(cue, "cue");
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("bad evidence span " + start + "-" + end);
        }
        if (!(score >= 0 && score <= 1)) {
            throw new IllegalArgumentException("score out of [0,1]: " + score);
        }
    }

    static RefusalVerdict none(String language) {
        return new RefusalVerdict(RefusalKind.NONE, 0, 0, 0, language, "none");
    }

    /** True when the model refused, deflected, answered only in part, or the upstream filtered or cut it. */
    public boolean declined() {
        return kind.declined();
    }

    /**
     * The verdict as the caller and the audit trail both state it (kind, evidence span, score,
     * language, cue; never the answer's text), in a fixed order; a fresh map callers may extend.
     */
    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.id());
        m.put("declined", declined());
        m.put("score", score);
        m.put("language", language);
        m.put("start", start);
        m.put("end", end);
        m.put("cue", cue);
        return m;
    }
}
