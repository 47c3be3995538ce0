package io.cleargate.domain;

import java.util.List;
import java.util.Objects;

/**
 * One message of a chat conversation, as the engine receives it (content already flattened to
 * text). An assistant message may carry the tool calls the model made (its content is then often
 * empty); a tool message carries the result of one call and names it.
 *
 * @param role       who speaks
 * @param content    the text; empty, never null, when an assistant message only calls tools
 * @param toolCalls  the calls an assistant message made; empty otherwise
 * @param toolCallId for a tool message, the id of the call it answers; null otherwise
 */
public record ChatMessage(Role role, String content, List<ToolCall> toolCalls, String toolCallId) {

    public enum Role {
        SYSTEM, USER, ASSISTANT, TOOL;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        if (role == Role.TOOL) {
            Objects.requireNonNull(toolCallId, "a tool message needs toolCallId");
        }
    }

    /** A plain text message. */
    public ChatMessage(Role role, String content) {
        this(role, content, List.of(), null);
    }

    public ChatMessage withContent(String newContent) {
        return new ChatMessage(role, newContent, toolCalls, toolCallId);
    }

    public ChatMessage withToolCalls(List<ToolCall> newCalls) {
        return new ChatMessage(role, content, newCalls, toolCallId);
    }
}
