package io.cleargate.audit;

/** Per-request audit state kept on the exchange (stages hold no per-request fields). */
final class AuditState {
    final StringBuilder released = new StringBuilder();
    final io.cleargate.pipeline.ToolCallAssembly toolCalls = new io.cleargate.pipeline.ToolCallAssembly();
    boolean requestCommitted;
    boolean finalCommitted;
}
