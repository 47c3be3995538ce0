package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalDetector;

/**
 * The start of the model's answer as it streams in: at most {@link RefusalDetector#SCAN_LIMIT}
 * characters are kept (all the detector reads), plus the total length, so memory per request is
 * bounded however long the answer. Used by one request's thread at a time.
 */
final class Transcript {

    private final StringBuilder head = new StringBuilder();
    private long length;

    void append(String text) {
        length += text.length();
        int room = RefusalDetector.SCAN_LIMIT - head.length();
        if (room > 0) {
            head.append(text, 0, Math.min(room, text.length()));
        }
    }

    /** The kept start of the answer. */
    CharSequence text() {
        return head;
    }

    long length() {
        return length;
    }
}
