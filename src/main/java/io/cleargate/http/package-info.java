/**
 * Beside the ground floor: a blocking keep-alive HTTP/1.1 client for virtual threads
 * ({@link io.cleargate.http.Http1Client}) that the engine's OpenAI-compatible upstream client and
 * the policy's OPA client share, so that neither feature names the other for it. Names nothing of
 * Cleargate but {@code concurrent}.
 */
package io.cleargate.http;
