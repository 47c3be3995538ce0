package io.cleargate.moderation;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;

/**
 * What libphonenumber's metadata gives for a country calling code, built on first use and then
 * read from an array by the code. The phone detector asks such tables several times per candidate
 * and region (validity, the national-prefix formats); as maps keyed by a boxed code each ask was a
 * hash look-up, a box for codes over 127 and a captured lambda. Metadata only, never client text.
 */
final class ByCallingCode<T> {

    /** Calling codes have one to three digits; anything else is built on every ask, as before. */
    private static final int CODES = 1000;

    private final AtomicReferenceArray<T> built = new AtomicReferenceArray<>(CODES);
    private final IntFunction<T> build;

    ByCallingCode(IntFunction<T> build) {
        this.build = build;
    }

    /** The value for {@code code}: built once (two threads may both build it; either answer is the same). */
    T get(int code) {
        if (code < 0 || code >= CODES) {
            return build.apply(code);
        }
        T value = built.getAcquire(code);
        if (value == null) {
            value = build.apply(code);
            built.setRelease(code, value);
        }
        return value;
    }
}
