package io.cleargate.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A unified diff of two policy trees, for the change history. Admin input can be large, so the
 * diff is bounded: the common head and tail are matched in linear time, and the longest common
 * subsequence is computed only for a middle of at most {@link #MAX_CELLS} line pairs; a larger
 * middle is shown as removed and re-added (still a correct diff, just not a minimal one).
 */
final class LineDiff {

    private static final int CONTEXT = 2;
    /** Most line pairs compared by the LCS table (4 bytes each). */
    static final long MAX_CELLS = 4_000_000;

    private LineDiff() {}

    static String of(Map<String, String> before, Map<String, String> after) {
        StringBuilder out = new StringBuilder();
        TreeSet<String> paths = new TreeSet<>(before.keySet());
        paths.addAll(after.keySet());
        for (String path : paths) {
            String a = before.get(path);
            String b = after.get(path);
            if (a != null && a.equals(b)) {
                continue;
            }
            out.append("--- ").append(a == null ? "/dev/null" : "a/" + path).append('\n');
            out.append("+++ ").append(b == null ? "/dev/null" : "b/" + path).append('\n');
            out.append(file(lines(a), lines(b)));
        }
        return out.toString();
    }

    private static List<String> lines(String s) {
        return s == null || s.isEmpty() ? List.of() : List.of(s.split("\n", -1));
    }

    /** One op per line: ' ', '-' or '+', with the line numbers it refers to. */
    private record Op(char kind, String line, int oldNo, int newNo) {}

    private static String file(List<String> a, List<String> b) {
        int head = 0;
        while (head < a.size() && head < b.size() && a.get(head).equals(b.get(head))) {
            head++;
        }
        int tail = 0;
        while (tail < a.size() - head && tail < b.size() - head
                && a.get(a.size() - 1 - tail).equals(b.get(b.size() - 1 - tail))) {
            tail++;
        }
        List<Op> ops = new ArrayList<>();
        for (int n = 0; n < head; n++) {
            ops.add(new Op(' ', a.get(n), n + 1, n + 1));
        }
        middle(a.subList(head, a.size() - tail), b.subList(head, b.size() - tail), head, ops);
        for (int n = tail; n > 0; n--) {
            ops.add(new Op(' ', a.get(a.size() - n), a.size() - n + 1, b.size() - n + 1));
        }
        return hunks(ops);
    }

    /** The changed middle, line numbers offset by the common head. */
    private static void middle(List<String> a, List<String> b, int offset, List<Op> ops) {
        if ((long) a.size() * b.size() > MAX_CELLS) {
            for (int n = 0; n < a.size(); n++) {
                ops.add(new Op('-', a.get(n), offset + n + 1, offset));
            }
            for (int n = 0; n < b.size(); n++) {
                ops.add(new Op('+', b.get(n), offset + a.size(), offset + n + 1));
            }
            return;
        }
        int[][] lcs = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                i++;
                j++;
                ops.add(new Op(' ', a.get(i - 1), offset + i, offset + j));
            } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
                j++;
                ops.add(new Op('+', b.get(j - 1), offset + i, offset + j));
            } else {
                i++;
                ops.add(new Op('-', a.get(i - 1), offset + i, offset + j));
            }
        }
    }

    private static String hunks(List<Op> ops) {
        StringBuilder out = new StringBuilder();
        int k = 0;
        while (k < ops.size()) {
            if (ops.get(k).kind() == ' ') {
                k++;
                continue;
            }
            int start = Math.max(0, k - CONTEXT);
            int end = k;
            // extend the hunk while changes are within 2*CONTEXT lines of each other
            int lastChange = k;
            while (end < ops.size() && end - lastChange <= 2 * CONTEXT) {
                if (ops.get(end).kind() != ' ') {
                    lastChange = end;
                }
                end++;
            }
            end = Math.min(ops.size(), lastChange + CONTEXT + 1);
            Op first = ops.get(start);
            // an inserted line sits after old line oldNo, a removed one after new line newNo
            int oldStart = first.kind() == '+' ? first.oldNo() + 1 : first.oldNo();
            int newStart = first.kind() == '-' ? first.newNo() + 1 : first.newNo();
            out.append("@@ -").append(oldStart).append(" +").append(newStart).append(" @@\n");
            for (int n = start; n < end; n++) {
                out.append(ops.get(n).kind()).append(ops.get(n).line()).append('\n');
            }
            k = end;
        }
        return out.toString();
    }
}
