package io.cleargate.moderation;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Settings under {@code cleargate.moderation.}. */
@ConfigMapping(prefix = "cleargate.moderation")
public interface ModerationConfig {

    /**
     * The profiles file: a document of the policy tree, changed through policy administration
     * (validated, tested, activated with history and audit), which OPA loads as
     * data.cleargate.moderation.profiles.
     */
    @WithDefault("policies/cleargate/moderation/profiles/data.json")
    String profilesPath();

    /** How often the profiles file is checked for changes. */
    @WithDefault("2s")
    Duration reloadInterval();
}
