package io.cleargate.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.pipeline.GatewayException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SearchTest {

    private static Search search(String preset, String from, String to, String action) {
        return new Search("jane", preset, from, to, action, null, null, null, null, null, null);
    }

    @Test
    void aPresetBecomesAnAbsoluteRangeSoEveryPageOfTheSearchIsTheSame() {
        var resolved = search("7d", null, null, "redact").resolved(Instant.parse("2026-11-30T12:00:00Z"));
        assertEquals("custom", resolved.preset());
        assertEquals("2026-11-23T12:00:01", resolved.from());
        assertEquals("2026-11-30T12:00:01", resolved.to());
        assertTrue(resolved.after(42L).query().contains("after=42"));
        assertTrue(resolved.query().contains("person=jane") && resolved.query().contains("action=redact"));
    }

    @Test
    void withoutAPresetOrDatesTheLastWeekIsSearched() {
        assertEquals("7d", search(null, null, null, null).preset());
        assertEquals("custom", search(null, "2026-11-01T00:00", null, null).preset());
    }

    @Test
    void denyIsThePolicysDecisionAndTheOtherActionsAreModerationTags() {
        assertEquals("deny", search("all", null, null, "deny").decision());
        assertEquals(null, search("all", null, null, "deny").moderationAction());
        assertEquals("block", search("all", null, null, "block").moderationAction());
    }

    @Test
    void unknownPresetsActionsAndDatesAreRefusedWith400() {
        assertEquals(400, assertThrows(GatewayException.class, () -> search("ever", null, null, null)).error().status());
        assertEquals(400, assertThrows(GatewayException.class, () -> search("all", null, null, "delete")).error().status());
        assertEquals(400, assertThrows(GatewayException.class, () -> Search.instant("yesterday", "from")).error().status());
    }

    @Test
    void aDateTimeInputIsReadAsUtc() {
        assertEquals(Instant.parse("2026-11-30T09:00:00Z"), Search.instant("2026-11-30T09:00", "from"));
    }
}
