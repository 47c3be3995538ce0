package io.cleargate.domain;

import java.util.List;

/**
 * What an {@link EngineStream} yields: text deltas, tool-call deltas and log probabilities (or, for
 * an embeddings request, embeddings), then exactly one {@link Finish}.
 */
public sealed interface EngineEvent {

    /** A piece of generated text (may be empty when a token decodes to nothing printable yet). */
    record Delta(String text) implements EngineEvent {}

    /**
     * A piece of a tool call, as OpenAI streams them: the first piece of a call carries its id and
     * function name, later pieces append to its arguments. Calls are told apart by index.
     *
     * @param index     which call of this completion (0, 1, ... for parallel calls)
     * @param id        the call's id on its first piece, else null
     * @param name      the function's name on its first piece, else null
     * @param arguments the next piece of the arguments' JSON text (may be empty)
     */
    record ToolCallDelta(int index, String id, String name, String arguments) implements EngineEvent {
        public ToolCallDelta {
            arguments = arguments == null ? "" : arguments;
        }
    }

    /** The log probabilities of the text just delivered by the preceding deltas, token by token. */
    record Logprobs(List<TokenLogprob> tokens) implements EngineEvent {
        public Logprobs {
            tokens = List.copyOf(tokens);
        }
    }

    /**
     * One token's log probability and, when asked for, the most likely alternatives.
     *
     * @param token   the token's text
     * @param logprob its log probability
     * @param top     alternatives (each without alternatives of its own); empty when not asked for
     */
    record TokenLogprob(String token, double logprob, List<TokenLogprob> top) {
        public TokenLogprob {
            top = top == null ? List.of() : List.copyOf(top);
        }
    }

    /**
     * One input's embedding (an embeddings request answers with these instead of text).
     *
     * @param index  the input's position in the request
     * @param vector the embedding
     */
    record Embedding(int index, float[] vector) implements EngineEvent {}

    /**
     * The end of generation.
     *
     * @param reason "stop" (EOS or stop sequence), "length" (max tokens) or "tool_calls"
     * @param usage  token counts as the engine measured them
     */
    record Finish(String reason, Usage usage) implements EngineEvent {}

    /**
     * An event of choice {@code index} (1, 2, ...) of a request for several choices ({@code n > 1});
     * choice 0's events come unwrapped, as for a single choice.
     */
    record OfChoice(int index, EngineEvent event) implements EngineEvent {}

    /**
     * The end of one choice of a request for several ({@code n > 1}), with its own finish reason.
     * Every choice, 0 included, ends with one; the stream still ends with one {@link Finish}.
     */
    record ChoiceFinish(int index, String reason) implements EngineEvent {}

    /** Token counts; {@code promptTokens} may be -1 when an upstream does not report them. */
    record Usage(int promptTokens, int completionTokens) {
        public int totalTokens() {
            return Math.max(promptTokens, 0) + completionTokens;
        }
    }
}
