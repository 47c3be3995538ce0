package io.cleargate.testsupport;

import java.util.ArrayList;
import java.util.List;

/** Splits an SSE body into its data payloads. */
public final class Sse {
    private Sse() {}

    public static List<String> data(String body) {
        var result = new ArrayList<String>();
        for (String line : body.split("\n")) {
            if (line.startsWith("data: ")) {
                result.add(line.substring(6));
            }
        }
        return result;
    }
}
