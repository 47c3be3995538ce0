/**
 * The ground floor: the domain's value types that every feature shares — the conversation
 * ({@link io.cleargate.domain.ChatMessage}, with the {@link io.cleargate.domain.ToolCall tool calls}
 * the model made), the request an engine receives ({@link io.cleargate.domain.EngineRequest}, with
 * its {@link io.cleargate.domain.RequestOptions options} and
 * {@link io.cleargate.domain.ToolDefinition tools}), the stream of events it answers with
 * ({@link io.cleargate.domain.EngineStream}, {@link io.cleargate.domain.EngineEvent} and its
 * {@link io.cleargate.domain.EngineEvent.Usage usage}), how an engine fails
 * ({@link io.cleargate.domain.EngineException}) and where a request was served
 * ({@link io.cleargate.domain.Route}).
 *
 * <p>Records and small interfaces only. This package imports nothing of Cleargate, so that the
 * pipeline, the features and the engine plug-ins can all stand on it without standing on each
 * other.
 */
package io.cleargate.domain;
