package io.cleargate.moderation;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;

/**
 * Benchmark support, not a test: what output moderation costs per response, in this thread's CPU
 * time and allocated bytes, for the bench mock's 1.4 KB completion with the default profile, the
 * way the output stage moderates it: whole (a non-streamed answer is one push that ends the
 * stream) and as the mock streams it (64 chunks). Run on two builds' class paths to compare.
 * Arguments: responses per measurement (default 20,000).
 */
public final class OutputCostProbe {

    private OutputCostProbe() {}

    /** The bench mock's completion (bench/mock/benchmock.c): one sentence repeated, cut at 1,400 chars. */
    static final String COMPLETION = ("Cleargate forwards this completion from a mock upstream so that the benchmark measures "
            + "the gateway, not a model. ").repeat(20).substring(0, 1400);

    public static void main(String[] args) {
        int responses = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        RuleSet rules = new RuleSet(ModerationFixtures.profiles().get("default"), Map.of());
        for (int round = 0; round < 3; round++) { // the last round is reported, after the JIT has settled
            report(round == 2, "whole", responses, () -> new ResponseModeration(rules, new Placeholders())
                    .push(COMPLETION, List.of(), List.of(), true));
            report(round == 2, "64 chunks", responses / 8, () -> {
                var response = new ResponseModeration(rules, new Placeholders());
                int piece = (COMPLETION.length() + 63) / 64;
                for (int at = 0; at < COMPLETION.length(); at += piece) {
                    response.push(COMPLETION.substring(at, Math.min(COMPLETION.length(), at + piece)), List.of(), List.of(),
                            false);
                }
                response.push("", List.of(), List.of(), true);
            });
        }
    }

    private static void report(boolean print, String what, int responses, Runnable moderateOne) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        long bytes = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < responses; i++) {
            moderateOne.run();
        }
        double micros = (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / responses;
        double kb = (threads.getCurrentThreadAllocatedBytes() - bytes) / 1024.0 / responses;
        if (print) {
            System.out.printf("output moderation, 1.4 KB completion, %-9s %8.1f µs CPU %8.1f KB allocated per response%n", what,
                    micros, kb);
        }
    }
}
