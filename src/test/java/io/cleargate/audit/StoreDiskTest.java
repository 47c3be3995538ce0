package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
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
}
