package io.cleargate.identity;

import io.cleargate.pipeline.GatewayException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * Writes a {@link GatewayException} thrown by a JAX-RS resource as its status, headers and
 * OpenAI-shaped body, so admin endpoints answer errors exactly like /v1 does.
 */
@Provider
public class GatewayExceptionMapper implements ExceptionMapper<GatewayException> {

    @Override
    public Response toResponse(GatewayException exception) {
        return response(exception.error());
    }

    /** The OpenAI-shaped JAX-RS response for an error, for resources that return rather than throw. */
    public static Response response(io.cleargate.pipeline.GatewayError error) {
        Response.ResponseBuilder response = Response.status(error.status())
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(error.toBody());
        error.headers().forEach(response::header);
        return response.build();
    }
}
