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
}
