package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreDiskTest {

    @TempDir
    Path dir;

    @Test
    void anEmbeddedDatabaseWhoseDiskHasLessThanTheReserveIsLowOnSpace() {
        String url = "jdbc:h2:file:" + dir.resolve("db/cleargate") + ";WRITE_DELAY=0";
        dir.resolve("db").toFile().mkdirs();
        assertTrue(StoreDisk.of(Optional.of(url), Long.MAX_VALUE).low(), "no disk has that much free");
        assertFalse(StoreDisk.of(Optional.of(url), 1).low());
    }

    @Test
    void aDatabaseServerGuardsItsOwnDisk() {
        assertFalse(StoreDisk.of(Optional.of("jdbc:postgresql://db:5432/cleargate"), Long.MAX_VALUE).low());
        assertFalse(StoreDisk.of(Optional.of("jdbc:h2:mem:test"), Long.MAX_VALUE).low());
        assertFalse(StoreDisk.of(Optional.empty(), Long.MAX_VALUE).low());
    }

    @Test
    void farAboveTheReserveAnAnswerIsReusedForAShortWhileThenAskedAgain() {
        AtomicLong free = new AtomicLong(1_000);
        AtomicLong now = new AtomicLong(0);
        AtomicInteger asked = new AtomicInteger();
        var disk = new StoreDisk(dir, 100, () -> {
            asked.incrementAndGet();
            return free.get();
        }, now::get);

        assertFalse(disk.low());
        free.set(50); // something else took the disk
        now.addAndGet(StoreDisk.REUSE_NANOS - 1);
        assertFalse(disk.low(), "the reading far above the reserve is still used");
        assertEquals(1, asked.get());
        now.addAndGet(1);
        assertTrue(disk.low(), "once it is older than the reuse window the disk is asked again");
        assertEquals(2, asked.get());
    }

    @Test
    void nearTheReserveEveryCallAsksTheDisk() {
        AtomicLong free = new AtomicLong(150);
        AtomicInteger asked = new AtomicInteger();
        var disk = new StoreDisk(dir, 100, () -> {
            asked.incrementAndGet();
            return free.get();
        }, () -> 0L);

        assertFalse(disk.low());
        free.set(99);
        assertTrue(disk.low(), "under twice the reserve a change is seen at once");
        free.set(500);
        assertFalse(disk.low(), "and space coming back too");
        assertEquals(3, asked.get());
    }
}
