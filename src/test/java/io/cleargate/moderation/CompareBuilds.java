package io.cleargate.moderation;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Moderation throughput of two builds in one run (bench/moderation/compare.sh): each build gets
 * its own class loader ({@code -Dbase.cp}, {@code -Dhead.cp}), and the two are measured
 * alternately, twice each ({@code -Drounds=N}: N times each), on the same corpora, so the ratio is
 * not skewed by what else the machine was doing; each row reports the best round of each build,
 * and with more than two rounds also every round and the medians. Times are this thread's CPU
 * time. Arguments: millis per measurement, corpora (comma-separated), then what to measure (see
 * {@link CostProbe#measure}).
 */
public final class CompareBuilds {

    private CompareBuilds() {}

    public static void main(String[] args) throws Exception {
        Method base = probe(System.getProperty("base.cp"));
        Method head = probe(System.getProperty("head.cp"));
        long millis = Long.parseLong(args[0]);
        int rounds = Integer.getInteger("rounds", 2);
        for (String corpus : args[1].split(",")) {
            for (String what : List.of(args).subList(2, args.length)) {
                double[] before = new double[rounds];
                double[] after = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    before[round] = (double) base.invoke(null, corpus, what, millis);
                    after[round] = (double) head.invoke(null, corpus, what, millis);
                }
                double bestBefore = java.util.Arrays.stream(before).max().orElseThrow();
                double bestAfter = java.util.Arrays.stream(after).max().orElseThrow();
                System.out.printf("%-6s %-26s before %9.2f MB/s  after %9.2f MB/s  x%.1f%n", corpus, what, bestBefore, bestAfter,
                        bestAfter / bestBefore);
                if (rounds > 2) {
                    System.out.printf("%-6s %-26s rounds before %s after %s; medians %.2f / %.2f MB/s  x%.2f%n", corpus, what,
                            java.util.Arrays.toString(round(before)), java.util.Arrays.toString(round(after)), median(before),
                            median(after), median(after) / median(before));
                }
            }
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double[] round(double[] values) {
        return java.util.Arrays.stream(values).map(v -> Math.round(v * 10) / 10.0).toArray();
    }

    private static Method probe(String classPath) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : classPath.split(":")) {
            if (!entry.isEmpty()) {
                urls.add(Path.of(entry).toUri().toURL());
            }
        }
        var loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        return loader.loadClass(CostProbe.class.getName()).getMethod("measure", String.class, String.class, long.class);
    }
}
