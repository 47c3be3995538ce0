package io.cleargate.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ScratchTest {

    @Test
    void scratchFilesLiveUnderThisJvmsOwnDirectory() throws Exception {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), Scratch.PREFIX + ProcessHandle.current().pid());
        Path file = Scratch.file("scratch-test", ".txt");
        Path dir = Scratch.dir("scratch-test");
        assertEquals(root, file.getParent());
        assertEquals(root, dir.getParent());
        assertTrue(Files.isRegularFile(file));
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void directoriesOfJvmsThatAreGoneAreRemovedAndLiveOnesKept() throws Exception {
        Path tmp = Scratch.dir("sweep");
        long gone = exitedPid();
        Path orphan = tmp.resolve(Scratch.PREFIX + gone);
        Files.createDirectories(orphan.resolve("db/nested"));
        Files.writeString(orphan.resolve("db/nested/audit-export.jsonl"), "{}");
        Path live = tmp.resolve(Scratch.PREFIX + ProcessHandle.current().pid());
        Files.createDirectories(live);
        Path unrelated = tmp.resolve(Scratch.PREFIX + "notes");
        Files.createDirectories(unrelated);

        Scratch.removeOrphans(tmp);

        assertFalse(Files.exists(orphan), "the directory of pid " + gone + ", which has exited, is removed");
        assertTrue(Files.isDirectory(live), "this JVM's directory stays");
        assertTrue(Files.isDirectory(unrelated), "a name that is not a pid is not ours to remove");
    }

    @Test
    void removingATreeDoesNotFollowSymbolicLinksOutOfIt() throws Exception {
        Path outside = Scratch.dir("outside");
        Path kept = Files.writeString(outside.resolve("kept.txt"), "x");
        Path tree = Scratch.dir("tree");
        Files.createSymbolicLink(tree.resolve("link"), outside);

        Scratch.deleteTree(tree);

        assertFalse(Files.exists(tree));
        assertTrue(Files.exists(kept));
    }

    @Test
    void noTestCreatesTemporaryFilesOutsideTheScratchDirectory() throws Exception {
        // The forms of Files.createTempFile and createTempDirectory without a parent directory put
        // their result straight into /tmp, where nothing removes it; those with a parent are fine.
        Pattern direct = Pattern.compile("Files\\.createTemp(File|Directory)\\(\\s*\"");
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> sources = Files.walk(Path.of("src/test/java"))) {
            for (Path source : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (direct.matcher(Files.readString(source)).find()) {
                    offenders.add(source.toString());
                }
            }
        }
        assertEquals(List.of(), offenders, "use io.cleargate.testsupport.Scratch");
    }

    private static long exitedPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long pid = p.pid();
        assertEquals(Optional.empty(), ProcessHandle.of(pid).filter(ProcessHandle::isAlive));
        return pid;
    }
}
