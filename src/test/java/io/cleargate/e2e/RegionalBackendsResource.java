package io.cleargate.e2e;

import io.cleargate.testsupport.MockUpstream;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Real backends on loopback labelled with regions, all serving the model both demo tenants may
 * use: three HTTP upstreams (two in the EU, one in the US) and an embedded-engine instance in the EU.
 */
public class RegionalBackendsResource implements QuarkusTestResourceLifecycleManager {

    public static final String MODEL = "deepseek-moe-16b-chat";
    static final Map<String, MockUpstream> MOCKS = new LinkedHashMap<>();

    @Override
    public Map<String, String> start() {
        var config = new LinkedHashMap<String, String>();
        for (String id : new String[] {"eu-west-1", "eu-central-1", "us-east-1"}) {
            String region = id.substring(0, id.lastIndexOf('-'));
            MockUpstream mock;
            try {
                mock = MockUpstream.start(id);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            MOCKS.put(id, mock);
            config.put("cleargate.backends." + id + ".kind", "openai");
            config.put("cleargate.backends." + id + ".base-url", mock.baseUrl());
            config.put("cleargate.backends." + id + ".models", MODEL + ",deepseek-v2-lite-chat");
            config.put("cleargate.backends." + id + ".region", region);
            config.put("cleargate.backends." + id + ".jurisdiction", region.startsWith("eu") ? "EU" : "US");
        }
        // A second EU backend of the other kind: the embedded DeepSeek engine on a tiny checkpoint.
        config.put("cleargate.backends.eu-central-2.kind", "embedded");
        config.put("cleargate.backends.eu-central-2.model-dir", "src/test/resources/engine/v3-tiny");
        config.put("cleargate.backends.eu-central-2.models", MODEL);
        config.put("cleargate.backends.eu-central-2.region", "eu-central");
        config.put("cleargate.backends.eu-central-2.jurisdiction", "EU");
        config.put("cleargate.upstream.first-byte-timeout", "2s");
        config.put("cleargate.routing.failure-threshold", "1000");
        return config;
    }

    @Override
    public void stop() {
        MOCKS.values().forEach(MockUpstream::close);
        MOCKS.clear();
    }
}
