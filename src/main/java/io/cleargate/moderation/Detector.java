package io.cleargate.moderation;

import java.util.function.Consumer;

/**
 * Finds one kind of sensitive content in a {@link NormalizedText}. Detectors are immutable and
 * thread-safe; rules wrap them with an action and a threshold.
 */
interface Detector {

    /** The detector type as named in profiles (email, phone, card, ...). */
    String type();

    /** The category reported when the rule names none (pii.email, secret.cloud_key, ...). */
    String defaultCategory();

    /** The placeholder label for redaction (EMAIL, PHONE, ...). */
    String placeholder();

    void scan(NormalizedText text, Consumer<Match> sink);

    /**
     * Where {@code text} stops being final for this detector: the first original offset at or
     * after {@code from} from which a match could still start, grow or change once more text is
     * appended, or {@code text.original.length()} when none can. Output moderation releases text
     * only before the smallest such offset of its rules. Answers must err towards holding: an
     * offset too late would release part of a match before it is seen whole.
     */
    int holdFrom(NormalizedText text, int from);

    /**
     * Like {@link #scan(NormalizedText, Consumer)} for a caller that acts only on matches scoring
     * at least {@code minScore}: a detector may leave out candidates it can show would score
     * lower, without validating them (every match it does report is reported as by scan).
     */
    default void scan(NormalizedText text, double minScore, Consumer<Match> sink) {
        scan(text, sink);
    }
}
