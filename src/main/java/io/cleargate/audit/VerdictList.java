package io.cleargate.audit;

import io.cleargate.moderation.Verdict;
import java.util.List;

/** All moderation verdicts of one request, as put on the exchange under {@link AuditKeys#VERDICTS}. */
public record VerdictList(List<Verdict> verdicts) {
    public VerdictList {
        verdicts = List.copyOf(verdicts);
    }
}
