package io.cleargate.moderation;

import java.util.ArrayList;
import java.util.List;

/** The verdicts of one request, in the order they were reached. */
public record VerdictList(List<Verdict> verdicts) {

    public VerdictList {
        verdicts = List.copyOf(verdicts);
    }

    public static VerdictList empty() {
        return new VerdictList(List.of());
    }

    public VerdictList plus(List<Verdict> more) {
        var all = new ArrayList<>(verdicts);
        all.addAll(more);
        return new VerdictList(all);
    }
}
