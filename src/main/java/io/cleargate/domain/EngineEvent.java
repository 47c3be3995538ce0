package io.cleargate.domain;

/** What an {@link EngineStream} yields: text deltas, then exactly one {@link Finish}. */
public sealed interface EngineEvent {

    /** A piece of generated text (may be empty when a token decodes to nothing printable yet). */
    record Delta(String text) implements EngineEvent {}

    /**
     * The end of generation.
     *
     * @param reason "stop" (EOS or stop sequence) or "length" (max tokens)
     * @param usage  token counts as the engine measured them
     */
    record Finish(String reason, Usage usage) implements EngineEvent {}

    /** Token counts; {@code promptTokens} may be -1 when an upstream does not report them. */
    record Usage(int promptTokens, int completionTokens) {
        public int totalTokens() {
            return Math.max(promptTokens, 0) + completionTokens;
        }
    }
}
