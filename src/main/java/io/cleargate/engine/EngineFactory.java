package io.cleargate.engine;

/**
 * Creates the {@link Engine} for a backend of one kind. CDI beans; the registry picks the factory
 * whose {@link #kind()} matches the backend's.
 */
public interface EngineFactory {

    Backend.Kind kind();

    Engine create(Backend backend);
}
