/**
 * API keys for service accounts: format and hashing ({@link io.cleargate.identity.apikey.ApiKeyFormat}),
 * the api_keys table ({@link io.cleargate.identity.apikey.ApiKeyStore}, parameterised SQL only), the
 * rules ({@link io.cleargate.identity.apikey.ApiKeyService}), the admin API under /admin/api-keys and the
 * development key created at startup by {@code bin/cleargate up}.
 */
package io.cleargate.identity.apikey;
