/**
 * The request pipeline SPI.
 *
 * <p>Rules every {@link io.cleargate.pipeline.Stage} obeys:
 * <ul>
 *   <li>Order is declared only in {@link io.cleargate.pipeline.StageOrder}. Request phases run in that
 *       order; response phases run in reverse; completion runs in reverse for every enabled stage.</li>
 *   <li>A stage never writes to the client or calls the engine itself. It returns a result:
 *       {@link io.cleargate.pipeline.StageResult.Forward forward} (optionally with a rewritten engine
 *       request) or {@link io.cleargate.pipeline.StageResult.ShortCircuit short-circuit} with an
 *       error; for response chunks, {@link io.cleargate.pipeline.ChunkResult emit} zero or more chunks
 *       or fail; the stage next to the engine may also ask for the answer to be generated again on
 *       another backend ({@link io.cleargate.pipeline.ChunkResult.Retry}), once, before anything reached
 *       the client.</li>
 *   <li>Decisions are recorded on the {@link io.cleargate.pipeline.Exchange} as typed attributes so
 *       that later stages (above all audit) can read them.</li>
 *   <li>Response stages see every chunk, streaming or not; the last one has endOfStream set. A stage
 *       that holds text back must release or drop it by the end-of-stream chunk.</li>
 *   <li>Stages are application-scoped and shared by concurrent requests: per-request state lives in
 *       exchange attributes, never in fields.</li>
 *   <li>A stage that cannot decide (its service is down) short-circuits with an error: the pipeline
 *       fails closed.</li>
 *   <li>A stage says whether a phase may block: {@link io.cleargate.pipeline.Stage#blocks()} for the
 *       stage, {@link io.cleargate.pipeline.Stage#blocksOn} per response chunk (a stream's chunks may be
 *       served on the event loop its upstream answers on: always with every stage off, for a governed
 *       stream when {@code cleargate.governed-streams-on-event-loop} is set; a chunk some stage blocks
 *       on moves the rest of the answer to a virtual thread), {@link io.cleargate.pipeline.Stage#mayAskForRetry}
 *       when it may ask for the answer again. A response phase that waits on anything but memory must
 *       say so, or it stalls the event loop.</li>
 * </ul>
 */
package io.cleargate.pipeline;
