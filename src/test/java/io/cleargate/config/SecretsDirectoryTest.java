package io.cleargate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void aFileNamedLikeAnEnvironmentVariableSetsThatSettingWithoutItsLineBreak() throws Exception {
        Files.writeString(dir.resolve("CLEARGATE_AUDIT_MASTER_KEY"), "c2VjcmV0\n");
        Files.writeString(dir.resolve("CLEARGATE_DB_PASSWORD"), "pa ss\r\n");
        SmallRyeConfig config = new SmallRyeConfigBuilder().withSources(new SecretsDirectory(dir)).build();
        assertEquals("c2VjcmV0", config.getRawValue("cleargate.audit.master-key"));
        assertEquals("pa ss", config.getRawValue("CLEARGATE_DB_PASSWORD"));
    }

    @Test
    void kubernetesBookkeepingEntriesAreSkipped() throws Exception {
        Files.createDirectories(dir.resolve("..2026_11_30_14_00_00.1"));
        Files.writeString(dir.resolve("..2026_11_30_14_00_00.1/CLEARGATE_POLICY_TOKEN"), "t");
        Files.createSymbolicLink(dir.resolve("..data"), dir.resolve("..2026_11_30_14_00_00.1"));
        Files.createSymbolicLink(dir.resolve("CLEARGATE_POLICY_TOKEN"), dir.resolve("..data/CLEARGATE_POLICY_TOKEN"));
        var source = new SecretsDirectory(dir);
        assertEquals("t", source.getValue("CLEARGATE_POLICY_TOKEN"));
        assertTrue(source.getPropertyNames().stream().noneMatch(name -> name.startsWith(".")), source.getPropertyNames().toString());
    }

    @Test
    void aFileOverridesTheEnvironmentAndSystemPropertiesOverrideTheFile() throws Exception {
        Files.writeString(dir.resolve("CLEARGATE_POLICY_TOKEN"), "from-file");
        var environment = new EnvConfigSource(Map.of("CLEARGATE_POLICY_TOKEN", "from-env"), 300);
        SmallRyeConfig config = new SmallRyeConfigBuilder().withSources(environment, new SecretsDirectory(dir)).build();
        assertEquals("from-file", config.getRawValue("cleargate.policy.token"));
        var properties = new PropertiesConfigSource(Map.of("cleargate.policy.token", "from-property"), "system", 400);
        config = new SmallRyeConfigBuilder().withSources(environment, new SecretsDirectory(dir), properties).build();
        assertEquals("from-property", config.getRawValue("cleargate.policy.token"));
    }

    @Test
    void withoutTheVariableNothingIsRead() {
        var source = new SecretsDirectory(null);
        assertTrue(source.getPropertyNames().isEmpty());
        assertNull(source.getValue("CLEARGATE_AUDIT_MASTER_KEY"));
    }

    @Test
    void aBrokenDirectoryStopsTheStartNamingTheFileButNeverItsContent() throws Exception {
        Path big = dir.resolve("CLEARGATE_AUDIT_SIGNING_KEY");
        Files.writeString(big, "s".repeat(SecretsDirectory.MAX_BYTES + 1));
        var tooLarge = assertThrows(IllegalStateException.class, () -> new SecretsDirectory(dir));
        assertTrue(tooLarge.getMessage().contains("CLEARGATE_AUDIT_SIGNING_KEY"));
        assertFalse(tooLarge.getMessage().contains("sss"));
        Files.delete(big);
        Files.writeString(dir.resolve("bad name"), "x");
        assertThrows(IllegalStateException.class, () -> new SecretsDirectory(dir));
        assertThrows(IllegalStateException.class, () -> new SecretsDirectory(dir.resolve("missing")));
    }
}
