package io.cleargate.identity.apikey;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeyFormatTest {

    @Test
    void generatedKeyParsesBackToItsPrefixAndSecret() {
        ApiKeyFormat.Parsed key = ApiKeyFormat.generate();

        assertTrue(key.full().matches("cg_[0-9a-f]{8}_[0-9a-f]{64}"), key.full().length() + " characters");
        assertEquals(key, ApiKeyFormat.parse(key.full()).orElseThrow());
    }

    @Test
    void generatedKeysDoNotRepeat() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            assertTrue(seen.add(ApiKeyFormat.generate().secret()));
        }
    }

    @Test
    void malformedKeysDoNotParse() {
        for (String bad : new String[] {null, "", "cg_", "cg_0123abcd", "cg_0123abcd_", "cg_0123ABCD_" + "a".repeat(64),
                "cg_0123abcd_" + "a".repeat(63), "cg_0123abcd_" + "a".repeat(65), "xx_0123abcd_" + "a".repeat(64),
                "cg_0123abcd_" + "a".repeat(63) + "'", " cg_0123abcd_" + "a".repeat(64)}) {
            assertFalse(ApiKeyFormat.parse(bad).isPresent(), String.valueOf(bad));
        }
    }

    @Test
    void onlyTheRightSecretMatchesTheStoredHash() {
        ApiKeyFormat.Parsed key = ApiKeyFormat.generate();
        String stored = ApiKeyFormat.hash(key.secret());

        assertEquals(64, stored.length());
        assertNotEquals(key.secret(), stored);
        assertTrue(ApiKeyFormat.hashMatches(key.secret(), stored));
        assertFalse(ApiKeyFormat.hashMatches(ApiKeyFormat.generate().secret(), stored));
    }

    @Test
    void printingAKeyNeverShowsItsSecret() {
        ApiKeyFormat.Parsed key = ApiKeyFormat.generate();

        assertFalse(key.toString().contains(key.secret()));
        assertTrue(key.toString().contains(key.prefix()));
    }
}
