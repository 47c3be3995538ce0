package io.cleargate.moderation;

import java.util.HashMap;
import java.util.Map;

/**
 * Numbers redaction placeholders per request: the first e-mail address is [EMAIL_1], the second
 * distinct one [EMAIL_2], and the same address seen again gets the same placeholder, so the model
 * (and the reader) can still tell values apart without seeing them.
 */
final class Placeholders {

    private final Map<String, String> byValue = new HashMap<>();
    private final Map<String, Integer> counters = new HashMap<>();

    synchronized String placeholder(String label, String value) {
        return byValue.computeIfAbsent(label + '\u0000' + value,
                k -> "[" + label + "_" + counters.merge(label, 1, Integer::sum) + "]");
    }
}
