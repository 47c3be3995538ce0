package io.cleargate.engine.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.engine.Backend;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Finding 10: backend addresses are checked again before every connection, not only at start-up. */
class EgressGuardTest {

    private final EgressGuard guard = new EgressGuard(false);

    @Test
    void linkLocalAndMetadataAddressesAreRefusedAtConnectTime() {
        for (String url : List.of("http://169.254.169.254/v1", "http://[fe80::1]:8000/v1", "http://metadata.google.internal/v1",
                "http://[fd00:ec2::254]/v1")) {
            assertNotNull(guard.refusal(URI.create(url)), url);
        }
        assertNull(guard.refusal(URI.create("http://127.0.0.1:8000/v1")));
        assertNull(new EgressGuard(true).refusal(URI.create("http://169.254.169.254/v1")), "explicitly allowed");
    }

    @Test
    void anUpstreamWhoseAddressIsLinkLocalIsRefusedBeforeAnyConnection() {
        var backend = new Backend("b", Backend.Kind.OPENAI, Optional.of("http://169.254.169.254:9/v1"), Optional.empty(),
                List.of("m"), "eu-west", "EU", 1, 4, Optional.empty());
        var upstream = new OpenAiUpstream(backend, new UpstreamLimits(Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 1 << 20), new ObjectMapper(), guard);
        var refused = assertThrows(EngineException.class, () -> upstream.open(new EngineRequest("m",
                List.of(new ChatMessage(ChatMessage.Role.USER, "hi")), 8, null, null, null, null)));
        assertEquals(EngineException.Kind.UNAVAILABLE, refused.kind());
        assertTrue(refused.getMessage().contains("refused at connect time"), refused.getMessage());
        assertTrue(!upstream.healthy(), "the health probe connects neither");
    }
}
