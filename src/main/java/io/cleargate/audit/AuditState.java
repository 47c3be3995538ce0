package io.cleargate.audit;

/**
 * Per-request audit state kept on the exchange (stages hold no per-request fields): what was
 * released of choice 0 and, for a request for several choices (n > 1), of the others. A
 * non-streamed answer's text is kept as its one chunk brought it, not copied into a builder.
 */
final class AuditState {
    final io.cleargate.pipeline.ReleasedText released = new io.cleargate.pipeline.ReleasedText();
    final io.cleargate.pipeline.ToolCallAssembly toolCalls = new io.cleargate.pipeline.ToolCallAssembly();
    /** Choices 1, 2, ... of a request for several, and every choice's own finish reason. */
    final java.util.Map<Integer, Choice> others = new java.util.TreeMap<>();
    final java.util.Map<Integer, String> finishReasons = new java.util.TreeMap<>();

    static final class Choice {
        final io.cleargate.pipeline.ReleasedText released = new io.cleargate.pipeline.ReleasedText();
        final io.cleargate.pipeline.ToolCallAssembly toolCalls = new io.cleargate.pipeline.ToolCallAssembly();
    }
    boolean requestCommitted;
    boolean finalCommitted;
}
