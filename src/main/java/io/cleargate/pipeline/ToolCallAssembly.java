package io.cleargate.pipeline;

import io.cleargate.domain.EngineEvent.ToolCallDelta;
import io.cleargate.domain.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Puts streamed tool-call pieces back together, by index: the first piece names the call, later
 * ones append to its arguments. Used where a whole call is needed (the JSON answer, the audit
 * record). One request's; not thread-safe.
 */
public final class ToolCallAssembly {

    private final Map<Integer, String[]> calls = new TreeMap<>();

    public void add(ToolCallDelta delta) {
        String[] call = calls.computeIfAbsent(delta.index(), i -> new String[] {null, null, ""});
        if (delta.id() != null) {
            call[0] = delta.id();
        }
        if (delta.name() != null) {
            call[1] = delta.name();
        }
        call[2] += delta.arguments();
    }

    public void addAll(List<ToolCallDelta> deltas) {
        deltas.forEach(this::add);
    }

    public boolean isEmpty() {
        return calls.isEmpty();
    }

    /** The calls so far, in index order; a call whose id or name never came gets an empty one. */
    public List<ToolCall> calls() {
        var out = new ArrayList<ToolCall>(calls.size());
        calls.values().forEach(c -> out.add(new ToolCall(c[0] == null ? "" : c[0], c[1] == null ? "" : c[1], c[2])));
        return out;
    }
}
