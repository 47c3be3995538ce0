package io.cleargate.pipeline;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/** The pipeline's own settings, under the {@code cleargate.} prefix. */
@ConfigMapping(prefix = "cleargate")
public interface PipelineConfig {

    /**
     * Stages switched off by name (see {@link StageOrder}). Only for benchmarking the bare proxy
     * path: the gateway refuses to start with a governance stage disabled unless
     * {@code cleargate.allow-disabled-stages} is true, and routing can never be switched off (it
     * is what keeps a request inside the regions its tenant may use).
     */
    Optional<List<String>> disabledStages();

    @WithDefault("false")
    boolean allowDisabledStages();

    /**
     * Whether a governed stream is served on the event loop its upstream answers on once its
     * request phase is done (see {@link Pipeline#execute(Exchange, ClientSink, java.util.concurrent.Executor,
     * java.util.concurrent.Executor)}). Off by default: measured against each other in one process
     * (bench/results/speed.md, section 17), a governed stream kept on its virtual thread got its
     * first token sooner (the blocking client's call, against a hop to the loop and Vert.x's client
     * there) with gaps between chunks no worse, and the event loop that reads every request and writes
     * every response stays light. Every stage off, streams stay on the loop either way.
     */
    @WithDefault("false")
    boolean governedStreamsOnEventLoop();
}
