/**
 * Beside the ground floor: thread and event-loop helpers that features in different layers share
 * and that name nothing of Cleargate, so that the audit trail, the HTTP surface and the engine's
 * client can use them without naming each other ({@link io.cleargate.concurrent.TickingWatchdog},
 * {@link io.cleargate.concurrent.FlushPerPass}).
 */
package io.cleargate.concurrent;
