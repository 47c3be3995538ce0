package io.cleargate.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Temporary files and directories for tests. They all live under one directory per test JVM,
 * removed when that JVM exits, so suite runs on a long-lived machine (CI runs on the same one after
 * every session) do not pile up audit exports, databases, policy trees and gateway logs in the
 * temporary directory. A JVM that is killed cannot clean up, so each JVM first removes the
 * directories of JVMs that no longer run. Tests use this instead of {@code Files.createTemp*}
 * (same arguments, same exceptions); {@code ScratchTest} checks that none of them does.
 */
public final class Scratch {

    static final String PREFIX = "cleargate-tests-";

    /**
     * Deletes each file, then its directory. Made when this class is initialised (before ROOT, whose
     * creation deletes trees): the shutdown hook runs after Quarkus closed the class loader a test
     * loaded this class with, and loading the visitor's class only then failed (IllegalAccessError),
     * leaving the directory to the next JVM's sweep.
     */
    private static final FileVisitor<Path> DELETING = new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.deleteIfExists(d);
            return FileVisitResult.CONTINUE;
        }
    };

    private static final Path ROOT = createRoot();

    private Scratch() {}

    /** A new empty file under this JVM's scratch directory. */
    public static Path file(String prefix, String suffix) throws IOException {
        return Files.createTempFile(ROOT, prefix, suffix);
    }

    /** A new empty directory under this JVM's scratch directory. */
    public static Path dir(String prefix, FileAttribute<?>... attributes) throws IOException {
        return Files.createTempDirectory(ROOT, prefix, attributes);
    }

    private static Path createRoot() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        removeOrphans(tmp);
        Path root = tmp.resolve(PREFIX + ProcessHandle.current().pid());
        try {
            deleteTree(root); // a directory of an earlier process that had this pid
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the tests' scratch directory " + root, e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(root), "scratch-cleanup"));
        return root;
    }

    /** Removes the scratch directories in {@code tmp} whose JVM is no longer running. */
    static void removeOrphans(Path tmp) {
        try (Stream<Path> entries = Files.list(tmp)) {
            entries.filter(p -> owner(p).filter(pid -> !running(pid)).isPresent())
                    .forEach(Scratch::deleteQuietly);
        } catch (IOException e) {
            // an unreadable temporary directory fails the first test that needs a scratch file instead
        }
    }

    private static boolean running(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The pid a scratch directory belongs to, from its name. */
    static Optional<Long> owner(Path dir) {
        String name = dir.getFileName().toString();
        if (!name.startsWith(PREFIX) || !Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(name.substring(PREFIX.length())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException e) {
            // a leftover is removed by the next JVM's sweep
        }
    }

    /** Deletes a tree without following symbolic links out of it. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, DELETING);
    }
}
