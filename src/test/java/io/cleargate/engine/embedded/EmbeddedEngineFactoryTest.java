package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.engine.EngineRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A kind=embedded backend is created by the CDI factory from its model-dir and serves a completion. */
@QuarkusTest
@TestProfile(EmbeddedEngineFactoryTest.TinyBackend.class)
class EmbeddedEngineFactoryTest {

    public static class TinyBackend implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "cleargate.backends.tiny.kind", "embedded",
                    "cleargate.backends.tiny.model-dir", "src/test/resources/engine/v3-tiny",
                    "cleargate.backends.tiny.models", "tiny-moe",
                    "cleargate.backends.tiny.region", "local",
                    "cleargate.backends.tiny.jurisdiction", "EU",
                    "cleargate.embedded.max-context", "64");
        }
    }

    @Inject
    EngineRegistry registry;

    @Test
    void embeddedBackendIsLoadedFromItsModelDirAndGenerates() throws Exception {
        var engine = registry.engine("tiny");
        assertInstanceOf(EmbeddedEngine.class, engine);
        assertTrue(engine.healthy());
        assertTrue(((EmbeddedEngine) engine).contextLength() == 64);
        try (EngineStream stream = engine.open(new EngineRequest("tiny-moe",
                List.of(new ChatMessage(ChatMessage.Role.USER, "Hi")), 5, 0.0, null, List.of(), null))) {
            EngineEvent e;
            do {
                e = stream.next();
            } while (e instanceof EngineEvent.Delta);
            assertInstanceOf(EngineEvent.Finish.class, e);
        }
    }
}
