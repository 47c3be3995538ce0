package io.cleargate.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A stacked bar chart drawn by the server as SVG geometry (the template writes the elements; the
 * colours are CSS classes, so the page needs no inline style). A table of the same numbers goes
 * with every chart for screen readers and for reading exact values.
 */
public record Chart(String title, int width, int height, List<Bar> bars, List<Label> labels, List<Series> series,
        int max, List<String> buckets, List<Row> rows) {

    public record Bar(int x, int y, int w, int h, String css, String tip) {}

    public record Label(int x, int y, String text) {}

    public record Series(String name, String css) {}

    /** A table row: the bucket and the value of each series in order. */
    public record Row(String bucket, List<Integer> values) {}

    static final int W = 720;
    static final int H = 220;
    private static final int LEFT = 40;
    private static final int BOTTOM = 40;
    private static final int TOP = 10;

    /** {@code data}: bucket → (series → count); buckets in time order. */
    static Chart stacked(String title, Map<String, Map<String, Integer>> data) {
        TreeSet<String> names = new TreeSet<>();
        data.values().forEach(m -> names.addAll(m.keySet()));
        List<String> order = new ArrayList<>(names);
        List<Series> series = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            series.add(new Series(order.get(i), "s" + (i % 6)));
        }
        int max = 1;
        for (Map<String, Integer> m : data.values()) {
            max = Math.max(max, m.values().stream().mapToInt(Integer::intValue).sum());
        }
        List<Bar> bars = new ArrayList<>();
        List<Label> labels = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        int n = Math.max(1, data.size());
        int slot = (W - LEFT - 10) / n;
        int barWidth = Math.max(2, (int) (slot * 0.7));
        int plot = H - BOTTOM - TOP;
        int i = 0;
        for (var e : data.entrySet()) {
            int x = LEFT + i * slot + (slot - barWidth) / 2;
            int y = H - BOTTOM;
            List<Integer> values = new ArrayList<>();
            for (int s = 0; s < order.size(); s++) {
                int v = e.getValue().getOrDefault(order.get(s), 0);
                values.add(v);
                if (v > 0) {
                    int h = Math.max(1, (int) Math.round((double) v * plot / max));
                    y -= h;
                    bars.add(new Bar(x, y, barWidth, h, series.get(s).css(), e.getKey() + ": " + order.get(s) + " " + v));
                }
            }
            if (n <= 12 || i % Math.ceilDiv(n, 12) == 0) {
                labels.add(new Label(x, H - BOTTOM + 16, shortBucket(e.getKey())));
            }
            rows.add(new Row(e.getKey(), values));
            i++;
        }
        return new Chart(title, W, H, bars, labels, series, max, new ArrayList<>(data.keySet()), rows);
    }

    /** The buckets from {@code from} to {@code to}, as the compliance summary names them. */
    static List<String> buckets(java.time.Instant from, java.time.Instant to, java.time.temporal.ChronoUnit unit) {
        List<String> out = new ArrayList<>();
        for (var t = from.truncatedTo(unit); !t.isAfter(to); t = t.plus(1, unit)) {
            out.add(t.toString());
        }
        return out;
    }

    private static String shortBucket(String bucket) {
        // 2026-11-30T10:00:00Z → 11-30 10h, 2026-11-30T00:00:00Z (days) → 11-30
        if (bucket.length() >= 13) {
            String day = bucket.substring(5, 10);
            String hour = bucket.substring(11, 13);
            return bucket.contains("T00:00:00") ? day : day + " " + hour + "h";
        }
        return bucket;
    }

    /** The sum of every bar: a chart of nothing says so instead of drawing an empty frame. */
    public int total() {
        return rows.stream().flatMap(r -> r.values().stream()).mapToInt(Integer::intValue).sum();
    }

    /**
     * Sums a summary's per-row counters into bucket → (series → count), with every bucket of the
     * period present (empty ones too, so time reads left to right at an even pace).
     */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Integer>> pivot(List<Map<String, Object>> rows, String column, List<String> buckets) {
        Map<String, Map<String, Integer>> out = new LinkedHashMap<>();
        buckets.forEach(b -> out.put(b, new LinkedHashMap<>()));
        for (Map<String, Object> row : rows) {
            Map<String, Integer> bucket = out.computeIfAbsent((String) row.get("bucket"), k -> new LinkedHashMap<>());
            if ("requests".equals(column)) {
                bucket.merge(String.valueOf(row.get("tenant")), ((Number) row.get("requests")).intValue(), Integer::sum);
            } else if (row.get(column) instanceof Map<?, ?> counts) {
                ((Map<String, Integer>) counts).forEach((k, v) -> bucket.merge(k, v, Integer::sum));
            }
        }
        return new java.util.TreeMap<>(out);
    }
}
