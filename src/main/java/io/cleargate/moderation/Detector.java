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

    /**
     * The longest text, in chars of the view it scans, the detector must see before it can fire.
     * Output moderation holds back at least this much, so no match can straddle released text.
     */
    int maxSpan();

    void scan(NormalizedText text, Consumer<Match> sink);
}
