/**
 * {@code lustra serve}: the HTTP service (Javalin on Jetty) and its web page. {@link org.lustra.serve.LustraServer}
 * owns the server, the limits (body size from the request header, pixel count from the image header, both before any
 * decoding), the optional bearer token and the bounded work queue; {@link org.lustra.serve.Api} turns requests into
 * calls of the shared {@link org.lustra.app.Workbench}, so the service and {@code lustra purify} take the same path.
 * The page ({@code index.html}) and the OpenAPI description ({@code openapi.json}) are resources of this package.
 */
package org.lustra.serve;
