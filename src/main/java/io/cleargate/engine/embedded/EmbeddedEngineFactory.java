package io.cleargate.engine.embedded;

import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import jakarta.inject.Inject;

/**
 * Creates the embedded engine for {@code kind=embedded} backends from the backend's model-dir
 * (a Hugging Face DeepSeek-V2/V3 checkpoint directory).
 */
@ApplicationScoped
public class EmbeddedEngineFactory implements EngineFactory {

    @Inject
    EmbeddedConfig config;

    @Override
    public Backend.Kind kind() {
        return Backend.Kind.EMBEDDED;
    }

    @Override
    public Engine create(Backend backend) {
        String dir = backend.modelDir().orElseThrow(() ->
                new IllegalArgumentException("backend " + backend.id() + ": an embedded backend needs model-dir"));
        return EmbeddedEngine.load(Path.of(dir), new EmbeddedEngine.Options(config.maxContext(), backend.maxConcurrency(), 64));
    }
}
