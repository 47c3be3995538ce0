package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.testsupport.OpaServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PolicyTreeTest {

    @Test
    void revisionMatchesTheOneTheStartScriptGivesOpa() throws Exception {
        Path root = OpaServer.repoRoot();
        Process p = new ProcessBuilder("bash", "-c", "source bin/lib/opa.sh && policy_revision policies")
                .directory(root.toFile()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String fromScript = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(fromScript, PolicyTree.revision(new PolicyTree(root.resolve("policies")).snapshot()));
    }

    @Test
    void draftsMayOnlyTouchCleargateRegoAndDataFiles() {
        assertDoesNotThrow(() -> PolicyTree.checkEditable("cleargate/tenants/data.json", "{}"));
        assertDoesNotThrow(() -> PolicyTree.checkEditable("cleargate/decision/decision.rego", "package cleargate.decision"));
        for (String bad : new String[] {"system/authz/authz.rego", "../etc/passwd", "cleargate/../system/authz/x.rego",
                "/abs/cleargate/x.rego", "data.json", "cleargate/x.sh", "cleargate/meta/data.json", "Cleargate/x.rego"}) {
            assertThrows(IllegalArgumentException.class, () -> PolicyTree.checkEditable(bad, "x"), bad);
        }
        assertThrows(IllegalArgumentException.class,
                () -> PolicyTree.checkEditable("cleargate/x/x.rego", "package system.authz\n\nallow := true\n"));
    }

    @Test
    void changesIgnoreFilesOutsideCleargate() {
        var before = Map.of("cleargate/a.rego", "1", "system/authz/authz.rego", "s");
        var after = Map.of("cleargate/a.rego", "2", "cleargate/b/data.json", "{}");
        var changes = PolicyTree.changes(before, after);
        assertEquals(Map.of("cleargate/a.rego", "2", "cleargate/b/data.json", "{}"), changes);
    }

    @Test
    void diffShowsRemovedAndAddedLines() {
        String diff = LineDiff.of(Map.of("f", "a\nb\nc\n"), Map.of("f", "a\nB\nc\n"));
        assertTrue(diff.contains("-b\n"), diff);
        assertTrue(diff.contains("+B\n"), diff);
        assertTrue(diff.startsWith("--- a/f\n+++ b/f\n@@ -1 +1 @@\n a\n"), diff);
    }

    @Test
    void diffOfLargeUnrelatedFilesStaysBoundedAndComplete() {
        // 60,000 x 60,000 lines: a full LCS table would need 14 GB; the bounded diff is linear.
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 60_000; i++) {
            a.append("old ").append(i).append('\n');
            b.append("new ").append(i).append('\n');
        }
        String diff = LineDiff.of(Map.of("f", "head\n" + a + "tail\n"), Map.of("f", "head\n" + b + "tail\n"));
        assertTrue(diff.contains("-old 59999\n+new 0\n"), "every old line removed, then every new one added");
        assertTrue(diff.contains("+new 59999\n tail\n"), "every new line added, then the common tail");
        assertTrue(diff.startsWith("--- a/f\n+++ b/f\n@@ -1 +1 @@\n head\n-old 0\n"), diff.substring(0, 80));
    }

    @Test
    void smallEditInsideALargeFileIsStillAMinimalDiff() {
        StringBuilder a = new StringBuilder();
        for (int i = 0; i < 50_000; i++) {
            a.append("line ").append(i).append('\n');
        }
        String before = a.toString();
        String after = before.replace("line 25000\n", "line 25000 changed\n");
        String diff = LineDiff.of(Map.of("f", before), Map.of("f", after));
        assertTrue(diff.contains(" line 24999\n+line 25000 changed\n-line 25000\n line 25001\n"), diff);
        assertTrue(diff.contains("@@ -24999 +24999 @@"), diff);
    }
}
