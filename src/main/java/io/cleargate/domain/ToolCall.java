package io.cleargate.domain;

import java.util.Objects;

/**
 * A function call the model made, as it appears in an assistant message of the conversation or
 * in a completion.
 *
 * @param id        the call's id, which the tool message answering it names
 * @param name      the function called
 * @param arguments the arguments as the model wrote them (JSON text, not necessarily valid)
 */
public record ToolCall(String id, String name, String arguments) {

    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        arguments = arguments == null ? "" : arguments;
    }

    public ToolCall withArguments(String newArguments) {
        return new ToolCall(id, name, newArguments);
    }
}
