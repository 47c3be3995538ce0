package io.cleargate.domain;

import java.util.Map;
import java.util.Objects;

/**
 * A function the caller offers the model ({@code tools[].function}).
 *
 * @param name        the function's name
 * @param description what it does, for the model; may be null
 * @param parameters  its JSON schema as plain maps and lists; may be null
 * @param strict      whether the upstream must follow the schema exactly; null when not given
 */
public record ToolDefinition(String name, String description, Map<String, Object> parameters, Boolean strict) {

    public ToolDefinition {
        Objects.requireNonNull(name, "name");
    }
}
