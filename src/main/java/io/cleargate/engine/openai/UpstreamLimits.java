package io.cleargate.engine.openai;

import java.time.Duration;

/** Timeouts and caps for one upstream; see GatewayConfig.Upstream for their meaning. */
public record UpstreamLimits(Duration connect, Duration firstByte, Duration betweenChunks, Duration total,
        long maxResponseBytes) {

    public UpstreamLimits {
        if (maxResponseBytes <= 0) {
            throw new IllegalArgumentException("maxResponseBytes must be positive");
        }
    }
}
