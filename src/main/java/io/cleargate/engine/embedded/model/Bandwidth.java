package io.cleargate.engine.embedded.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Read-bandwidth probe: how many bytes per second the engine's threads can stream from memory,
 * the bound decode speed is measured against (decoding one token reads every active weight once).
 * Reads a buffer far larger than the caches with the same vector loads and the same static
 * split across the engine's {@link Team} as the matrix kernels; best of several passes.
 */
public final class Bandwidth {

    private Bandwidth() {}

    /** Bytes read per second over a buffer of {@code bytes} (rounded to a whole number of chunks), best of {@code passes}. */
    public static double readBytesPerSecond(long bytes, int passes) {
        return readBytesPerSecond(bytes, passes, Team.shared());
    }

    /** The same on the members of {@code team}, each reading its contiguous share of the buffer. */
    public static double readBytesPerSecond(long bytes, int passes, Team team) {
        int chunk = 1 << 20;
        int chunks = (int) Math.max(1, bytes / chunk);
        try (Arena arena = Arena.ofShared()) { // read by the team's threads
            MemorySegment buffer = arena.allocate((long) chunks * chunk, 64);
            buffer.fill((byte) 1); // touch every page so the first pass does not measure page faults
            MemorySegment shared = buffer;
            double best = 0;
            float[] sink = new float[chunks];
            // Compile the loop before timing it: a profile showed the first passes running the Vector
            // API's interpreted fallback, which made the bound look lower than what llama.cpp reaches.
            for (int w = 0; w < 2000; w++) {
                sink[w % chunks] += sum(shared, (long) (w % Math.min(chunks, 4)) * chunk, chunk);
            }
            for (int p = 0; p < passes; p++) {
                long t0 = System.nanoTime();
                team.run((m, size) -> {
                    for (int c = Team.start(chunks, m, size, 1); c < Team.start(chunks, m + 1, size, 1); c++) {
                        sink[c] = sum(shared, (long) c * chunk, chunk);
                    }
                });
                double seconds = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, (double) chunks * chunk / seconds);
            }
            float check = 0;
            for (float v : sink) {
                check += v;
            }
            if (Float.isNaN(check)) {
                throw new IllegalStateException("unreachable: keeps the reads alive");
            }
            return best;
        }
    }

    private static float sum(MemorySegment seg, long offset, int bytes) {
        if (Kernels.VECTOR) {
            return VectorKernels.sumF32(seg, offset, bytes / 4);
        }
        float s = 0;
        for (long i = 0; i < bytes; i += 4) {
            s += seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, offset + i);
        }
        return s;
    }
}
