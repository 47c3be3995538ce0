package io.cleargate.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cleargate.audit.Canonical;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

class KeyOrderTest {

    @Test
    void theCopyHoldsTheSameEntriesWithEveryNestedMapInKeyOrderAndReadOnly() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("z", 1);
        inner.put("a", List.of(Map.of("y", 2, "b", 3)));
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("tenant", "acme");
        map.put("context", Map.of("time", "2026-12-02T16:00:00Z"));
        map.put("request", inner);

        Map<String, Object> copy = KeyOrder.copyOf(map);

        assertEquals(map, copy);
        assertEquals(List.of("context", "request", "tenant"), List.copyOf(copy.keySet()));
        assertInstanceOf(SortedMap.class, copy.get("context"));
        assertEquals(List.of("a", "z"), List.copyOf(((Map<?, ?>) copy.get("request")).keySet()));
        assertThrows(UnsupportedOperationException.class, () -> copy.put("x", 1));
        assertThrows(UnsupportedOperationException.class, () -> ((Map<String, Object>) copy.get("request")).put("x", 1));
        inner.put("late", true);
        assertEquals(2, ((Map<?, ?>) copy.get("request")).size(), "a copy, not a view");
    }

    @Test
    void aMapWithANullOrNonStringKeyAnywhereIsCopiedInItsOwnOrder() {
        Map<Object, Object> odd = new HashMap<>();
        odd.put(null, "x");
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("b", 1);
        map.put("a", odd);

        Map<String, Object> copy = KeyOrder.copyOf(map);

        assertEquals(map, copy);
        assertEquals(List.of("b", "a"), List.copyOf(copy.keySet()));
        assertThrows(UnsupportedOperationException.class, () -> copy.put("x", 1));
    }

    @Test
    void theCanonicalJsonOfTheCopyIsTheOriginalsOnRandomDocuments() {
        Random random = new Random(36);
        for (int k = 0; k < 2000; k++) {
            Map<String, Object> doc = document(random, 0);
            assertEquals(Canonical.json(doc), Canonical.json(KeyOrder.copyOf(doc)), "document " + k);
        }
    }

    private static Map<String, Object> document(Random random, int depth) {
        Map<String, Object> m = random.nextBoolean() ? new LinkedHashMap<>() : new HashMap<>();
        int n = random.nextInt(6);
        for (int i = 0; i < n; i++) {
            m.put(key(random), value(random, depth));
        }
        return m;
    }

    private static Object value(Random random, int depth) {
        return switch (random.nextInt(depth < 3 ? 7 : 5)) {
            case 0 -> key(random);
            case 1 -> random.nextLong();
            case 2 -> random.nextBoolean();
            case 3 -> null;
            case 4 -> random.nextDouble();
            case 5 -> document(random, depth + 1);
            default -> {
                List<Object> list = new ArrayList<>();
                for (int i = random.nextInt(3); i > 0; i--) {
                    list.add(value(random, depth + 1));
                }
                yield list;
            }
        };
    }

    /** Keys that sort differently by char than by code point or case: ASCII, upper case, Latin-1, a surrogate pair. */
    private static String key(Random random) {
        String alphabet = "aAbB_0é\uD83D\uDE42z";
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(4); i >= 0; i--) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }
}
