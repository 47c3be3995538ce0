package io.cleargate.policy;

import io.cleargate.testsupport.OpaTestResource;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Set;

/** A real OPA over a private copy of policies/, and recorded inputs for the what-if. */
public class PolicyAdminProfile implements QuarkusTestProfile {

    @Override
    public Set<Class<?>> getEnabledAlternatives() {
        return Set.of(RecordedDecisionInputs.class, RecordedAdminEvents.class);
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(OpaTestResource.class));
    }
}
