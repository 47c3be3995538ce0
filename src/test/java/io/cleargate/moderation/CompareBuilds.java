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
 * alternately, twice each, on the same corpora, so the ratio is not skewed by what else the
 * machine was doing. Times are this thread's CPU time. Arguments: millis per measurement,
 * corpora (comma-separated), then what to measure (see {@link CostProbe#measure}).
 */
public final class CompareBuilds {

    private CompareBuilds() {}

    public static void main(String[] args) throws Exception {
        Method base = probe(System.getProperty("base.cp"));
        Method head = probe(System.getProperty("head.cp"));
        long millis = Long.parseLong(args[0]);
        for (String corpus : args[1].split(",")) {
            for (String what : List.of(args).subList(2, args.length)) {
                double before = 0;
                double after = 0;
                for (int round = 0; round < 2; round++) {
                    before = Math.max(before, (double) base.invoke(null, corpus, what, millis));
                    after = Math.max(after, (double) head.invoke(null, corpus, what, millis));
                }
                System.out.printf("%-6s %-26s before %9.2f MB/s  after %9.2f MB/s  x%.1f%n", corpus, what, before, after,
                        after / before);
            }
        }
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
