package io.cleargate.refusal.detector;

import java.util.Locale;

/**
 * What the model itself did with a request, as far as its answer shows. Kept apart from the
 * tenant's own content filter: these are the model's (or its upstream server's) decisions.
 */
public enum RefusalKind {
    /** A policy-style refusal ("I can't help with that"), with at most a short explanation or offer. */
    REFUSAL,
    /** A canned deflection or a topic switch ("Let's talk about something else"). */
    DEFLECTION,
    /** A refusal of part of the request followed by a substantive answer to the rest. */
    PARTIAL,
    /** The upstream ended the answer with finish_reason content_filter. */
    CONTENT_FILTER,
    /** The upstream ended the answer without any visible text. */
    EMPTY_CUTOFF,
    /** An answer. */
    NONE;

    /** The snake_case name used in headers, audit records and metrics. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True for every kind but {@link #NONE}. */
    public boolean declined() {
        return this != NONE;
    }
}
