package io.cleargate.pipeline;

import io.cleargate.domain.EngineRequest;
import java.util.Objects;

/** What a stage decides about a request: pass it on (perhaps rewritten) or answer it now with an error. */
public sealed interface StageResult {

    /** Continue with the next stage. {@code rewritten} replaces the engine request when not null. */
    record Forward(EngineRequest rewritten) implements StageResult {}

    /** Stop here: the client gets {@code error}; later stages and the engine never see the request. */
    record ShortCircuit(GatewayError error) implements StageResult {
        public ShortCircuit {
            Objects.requireNonNull(error, "error");
        }
    }

    Forward FORWARD = new Forward(null);

    static StageResult forward() {
        return FORWARD;
    }

    static StageResult forward(EngineRequest rewritten) {
        return new Forward(Objects.requireNonNull(rewritten, "rewritten"));
    }

    static StageResult shortCircuit(GatewayError error) {
        return new ShortCircuit(error);
    }
}
