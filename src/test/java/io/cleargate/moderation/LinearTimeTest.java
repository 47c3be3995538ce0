package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every detector's cost grows linearly with its input, also on inputs made of its own pattern's
 * characters (runs of dashes for the private key header, of "#" for a fake system turn, digit
 * groups for cards and phones, ...), where a backtracking matcher would go quadratic. The cost is
 * this thread's CPU time, compared between 100 KB and 1 MB of the same input in one run: a linear
 * scan costs about 10 times more on ten times the text, a quadratic one about 100 times. The
 * warm-up scans the large text too: thread CPU time includes the kernel's time to first touch
 * freshly grown heap pages, which once made a single 1 MB scan look 3 to 4 times dearer than
 * its text (CI failed on such a run); the cheapest of several runs drops the remaining one-off
 * costs (a recompilation, a cold cache). The bound is generous because caches and the JIT blur
 * the ratio; no absolute time is asserted.
 */
class LinearTimeTest {

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final int SMALL = 100_000;
    private static final int LARGE = 1_000_000;
    private static final int ROUNDS = 4;
    /** Linear is about 10; quadratic would be about 100. */
    private static final double BOUND = 30;

    private static Detector detector(String type) {
        return ModerationFixtures.profiles().get("strict").rules().stream().map(Rule::detector)
                .filter(d -> d.type().equals(type)).findFirst().orElseThrow(() -> new AssertionError("no " + type + " rule"));
    }

    private static String repeat(String unit, int size) {
        return unit.repeat(size / unit.length() + 1).substring(0, size);
    }

    /**
     * CPU nanoseconds of the cheapest of {@code runs} scans (views built beforehand, as every rule
     * shares them; a fresh text each run, so nothing a detector derived from it is reused).
     */
    private static long cost(Detector detector, String text, int runs) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            NormalizedText normalized = NormalizedText.of(text);
            normalized.lower();
            normalized.compact();
            normalized.alnum();
            int[] found = {0};
            long t0 = CPU.getCurrentThreadCpuTime();
            detector.scan(normalized, m -> found[0]++);
            best = Math.min(best, CPU.getCurrentThreadCpuTime() - t0);
        }
        return Math.max(best, 1);
    }

    // The timeout only keeps a quadratic regression from hanging the build; it asserts no speed.
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    @ParameterizedTest(name = "{0} on \"{1}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "private_key | -",
            "private_key | \"-----BEGIN \"",
            "private_key | -----BEGIN RSA PRIVATE KEY-----\\n-",
            "private_key | \"--- BEGIN PRIVATE KEY --- \"",
            "system_prompt_extraction | #",
            "system_prompt_extraction | \"# \"",
            "system_prompt_extraction | \"< \"",
            "system_prompt_extraction | \"[ \"",
            "system_prompt_extraction | \"reveal your system \"",
            "injection | \"ignore \"",
            "injection | \"i-g-n-o-r-e \"",
            "injection | \"ignore previous \"",
            "email | a",
            "email | a.",
            "email | a@",
            "email | a@a.",
            "email | \"a @ a . \"",
            "email | @",
            "phone | 1",
            "phone | \"1 \"",
            "phone | \"+1 (\"",
            "phone | 1-",
            "card | 1",
            "card | \"1 \"",
            "card | \"4111 1111 1111 1111 \"",
            "card | 1.",
            "iban | DE89",
            "iban | \"DE89 3704 \"",
            "iban | a1",
            "ssn | 123-45-",
            "ssn | \"123 45 6789 \"",
            "ip | 1.",
            "ip | 1.1.1.1.",
            "ip | :",
            "ip | 1:",
            "ip | \"::1 \"",
            "cloud_key | AKIA",
            "cloud_key | A",
            "cloud_key | \"A K I A \"",
            "cloud_key | ya29.",
            "token | ghp_",
            "token | sk-",
            "token | -",
            "token | github_pat_",
            "token | xoxb-",
            "jwt | eyJ",
            "jwt | eyJaaaaaaaaaaaa.",
            "jwt | eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "token | xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
            "token | hf_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7",
            "token | sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "cloud_key | ya29.a0AfH6SMBx7Yq2kQ9rT3vLw8ZpX1cN4eU6",
            "entropy | a",
            "entropy | a1",
            "entropy | a=",
            "entropy | aB3+/",
            "keywords | \"nightjar \"",
            "keywords | \"b l u e \"",
            "keywords | a",
            "topic | \"pipe \"",
            "regex | EMP-",
            "regex | 1",
    })
    void costGrowsLinearlyWithInputBuiltFromTheDetectorsOwnCharacters(String type, String unit) {
        Detector detector = detector(type);
        String u = unit.replace("\\n", "\n");
        cost(detector, repeat(u, SMALL), 1); // warm-up: compiles the scan
        cost(detector, repeat(u, LARGE), 1); // warm-up: grows and touches the heap a large scan needs
        // Rounds alternate the sizes, so a slow spell (a pending recompilation, a busy neighbour)
        // that outlasts one round cannot weigh on only one side of the ratio.
        long small = Long.MAX_VALUE;
        long large = Long.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
            small = Math.min(small, cost(detector, repeat(u, SMALL), 1));
            large = Math.min(large, cost(detector, repeat(u, LARGE), 1));
        }
        double ratio = (double) large / small;
        System.out.printf("linear-time %-26s %-36s 100KB %8.2f ms  1MB %9.2f ms  ratio %5.1f%n", type,
                "\"" + unit + "\"", small / 1e6, large / 1e6, ratio);
        assertTrue(ratio < BOUND, () -> type + " on \"" + unit + "\": 1 MB cost " + ratio + "x the cost of 100 KB");
    }
}
