package io.cleargate.refusal.detector;

import java.lang.management.ManagementFactory;

/**
 * Benchmark support, not a test: what judging one answer costs, in this thread's CPU time and
 * allocated bytes, for the bench mock's 1.4 KB completion (bench/mock/benchmock.c). Run on two
 * builds' class paths to compare. Argument: answers per measurement (default 50,000).
 */
public final class RefusalCostProbe {

    private RefusalCostProbe() {}

    public static void main(String[] args) {
        int answers = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        String text = ("Cleargate forwards this completion from a mock upstream so that the benchmark measures the gateway, "
                + "not a model. ").repeat(20).substring(0, 1400);
        var detector = new RefusalDetector();
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 3; round++) { // the last round is reported, after the JIT has settled
            long cpu = threads.getCurrentThreadCpuTime();
            long bytes = threads.getCurrentThreadAllocatedBytes();
            int declined = 0;
            for (int i = 0; i < answers; i++) {
                declined += detector.detect(text, "stop").declined() ? 1 : 0;
            }
            if (round == 2) {
                System.out.printf("model-refusal detection, 1.4 KB answer: %.1f µs CPU %.1f KB allocated per answer"
                        + " (%d declined)%n", (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / answers,
                        (threads.getCurrentThreadAllocatedBytes() - bytes) / 1024.0 / answers, declined);
            }
        }
    }
}
