package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

/** AES-GCM sealing with reused ciphers: each use gets a fresh nonce and nothing of another's state. */
class KeyringCipherTest {

    @Test
    void manyThreadsSealingAndOpeningAtOnceEachGetTheirOwnPlaintextBack() throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    byte[] key = Keyring.random(32);
                    byte[] text = ("request " + n + " ").repeat(1 + n % 50).getBytes(StandardCharsets.UTF_8);
                    byte[] sealed = Keyring.gcm(Cipher.ENCRYPT_MODE, key, text, "tenant-" + n);
                    return Arrays.equals(text, Keyring.gcm(Cipher.DECRYPT_MODE, key, sealed, "tenant-" + n));
                }));
            }
            for (Future<Boolean> r : results) {
                assertEquals(true, r.get());
            }
        }
    }

    @Test
    void sealingTheSameTextTwiceWithOneKeyGivesDifferentNonces() {
        byte[] key = Keyring.random(32);
        byte[] text = "the same prompt".getBytes(StandardCharsets.UTF_8);
        byte[] first = Keyring.gcm(Cipher.ENCRYPT_MODE, key, text, "a");
        byte[] second = Keyring.gcm(Cipher.ENCRYPT_MODE, key, text, "a");
        assertFalse(Arrays.equals(Arrays.copyOf(first, 12), Arrays.copyOf(second, 12)), "a nonce is never reused");
    }

    @Test
    void aSealThatDoesNotAuthenticateIsRefusedAndLeavesNothingBehindForTheNextUse() {
        byte[] key = Keyring.random(32);
        byte[] text = "prompt".getBytes(StandardCharsets.UTF_8);
        byte[] sealed = Keyring.gcm(Cipher.ENCRYPT_MODE, key, text, "tenant");
        byte[] tampered = sealed.clone();
        tampered[tampered.length - 1] ^= 1;

        assertThrows(IllegalStateException.class, () -> Keyring.gcm(Cipher.DECRYPT_MODE, key, tampered, "tenant"));
        assertThrows(IllegalStateException.class, () -> Keyring.gcm(Cipher.DECRYPT_MODE, key, sealed, "another tenant"));
        assertArrayEquals(text, Keyring.gcm(Cipher.DECRYPT_MODE, key, sealed, "tenant"));
    }
}
