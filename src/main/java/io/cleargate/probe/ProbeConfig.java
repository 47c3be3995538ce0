package io.cleargate.probe;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The model probe suite ({@code cleargate.probes.*}). */
@ConfigMapping(prefix = "cleargate.probes")
public interface ProbeConfig {

    /**
     * The probe prompts: policy data beside the Rego (OPA loads it as data.cleargate.refusal.probes), edited
     * through policy administration like the rest of the policy.
     */
    @WithDefault("policies/cleargate/refusal/probes/data.json")
    String suitePath();

    /** How often the scheduled run goes, e.g. {@code 24h}; {@code off} (the default) runs only on demand. */
    @WithDefault("off")
    String every();
}
