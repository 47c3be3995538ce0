package io.cleargate.moderation;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Settings under {@code cleargate.moderation.}. */
@ConfigMapping(prefix = "cleargate.moderation")
public interface ModerationConfig {

    /**
     * The profiles file. It sits beside the Rego so admins edit policy and filter in one place,
     * and OPA loads it as data.moderation.profiles.
     */
    @WithDefault("policies/moderation/profiles/data.json")
    String profilesPath();

    /** How often the profiles file is checked for changes. */
    @WithDefault("2s")
    Duration reloadInterval();
}
