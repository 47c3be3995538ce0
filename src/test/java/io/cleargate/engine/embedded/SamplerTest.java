package io.cleargate.engine.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final float[] LOGITS = {1.0f, 2.0f, 0.5f, 1.8f, -1.0f, 0.0f, 1.9f, 0.2f};

    private static List<Integer> draw(Sampler.Options options, long seed, int n) {
        Sampler sampler = new Sampler(options, seed);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(sampler.sample(LOGITS));
        }
        return out;
    }

    @Test
    void sameSeedGivesTheSameTokensAndAnotherSeedDiffers() {
        Sampler.Options options = new Sampler.Options(1.0, 1.0, 0);
        assertEquals(draw(options, 42, 200), draw(options, 42, 200));
        assertNotEquals(draw(options, 42, 200), draw(options, 43, 200));
    }

    @Test
    void temperatureZeroIsArgmax() {
        assertEquals(Set.of(1), new HashSet<>(draw(Sampler.Options.GREEDY, 1, 50)));
    }

    @Test
    void topKAndTopPRestrictTheCandidates() {
        assertEquals(Set.of(1, 6), new HashSet<>(draw(new Sampler.Options(1.0, 1.0, 2), 7, 500)));
        // The two best (2.0, 1.9) hold 52% of the mass, the three best 74%: top_p 0.6 keeps exactly three.
        Set<Integer> nucleus = new HashSet<>(draw(new Sampler.Options(1.0, 0.6, 0), 7, 500));
        assertEquals(Set.of(1, 6, 3), nucleus);
        assertTrue(new HashSet<>(draw(new Sampler.Options(1.0, 1.0, 0), 7, 2000)).size() == LOGITS.length);
    }

    @Test
    void invalidOptionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Options(-1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler.Options(1, 0, 0));
    }
}
