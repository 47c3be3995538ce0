/**
 * Beside the ground floor: thread helpers that features in different layers share and that name
 * nothing of Cleargate, so that the audit trail and the engine's client can both use them without
 * naming each other ({@link io.cleargate.concurrent.TickingWatchdog}).
 */
package io.cleargate.concurrent;
