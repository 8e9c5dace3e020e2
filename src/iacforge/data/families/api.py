"""API families: API Gateway REST APIs (resource, method, integration) and HTTP APIs (v2)."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import maybe, tags, words
from iacforge.data.spec import Body, Raw, Resource


def apigateway_rest(rng: Random, region: str) -> list[Resource]:
    """A REST API, a resource path, a method on it and a mock or HTTP proxy integration."""
    project, purpose, env = words(rng)
    attrs: dict = {"name": f"{project}-{purpose}-api"}
    if maybe(rng, 0.5):
        attrs["description"] = f"{project} {purpose} API ({env})"
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    kind = rng.choice(("REGIONAL", "EDGE"))
    blocks = (("endpoint_configuration", Body({"types": [kind]})),) if maybe(rng, 0.5) else ()
    api = Resource("aws_api_gateway_rest_api", "main", Body(attrs, blocks))
    path = rng.choice(("items", "users", "orders", "health", "status"))
    resource = Resource("aws_api_gateway_resource", path, Body({
        "rest_api_id": api.ref(), "parent_id": api.ref("root_resource_id"), "path_part": path}))
    verb = rng.choice(("GET", "POST", "ANY"))
    method = Resource("aws_api_gateway_method", path, Body({
        "rest_api_id": api.ref(), "resource_id": resource.ref(), "http_method": verb,
        "authorization": "NONE"}))
    integration: dict = {"rest_api_id": api.ref(), "resource_id": resource.ref(),
                         "http_method": method.ref("http_method")}
    if maybe(rng, 0.5):
        integration["type"] = "MOCK"
    else:
        integration |= {"type": "HTTP_PROXY", "integration_http_method": verb,
                        "uri": f"https://{project}.example.com/{path}"}
    return [api, resource, method, Resource("aws_api_gateway_integration", path,
                                            Body(integration))]


def apigateway_http(rng: Random, region: str) -> list[Resource]:
    """An HTTP API with a default auto-deployed stage, maybe CORS, and a route to an HTTP
    proxy integration."""
    project, purpose, env = words(rng)
    attrs: dict = {"name": f"{project}-{purpose}-http", "protocol_type": "HTTP"}
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    blocks = ()
    if maybe(rng, 0.4):
        blocks = (("cors_configuration", Body({
            "allow_origins": [f"https://{project}.example.com"],
            "allow_methods": ["GET", "POST"], "max_age": rng.choice((300, 3600))})),)
    api = Resource("aws_apigatewayv2_api", "main", Body(attrs, blocks))
    stage = Resource("aws_apigatewayv2_stage", "default", Body({
        "api_id": api.ref(), "name": rng.choice(("$default", env)),
        "auto_deploy": rng.choice((True, False))}), choices={"auto_deploy": (True, False)})
    out = [api, stage]
    if maybe(rng, 0.7):
        path = rng.choice(("items", "users", "orders", "health"))
        integration = Resource("aws_apigatewayv2_integration", path, Body({
            "api_id": api.ref(), "integration_type": "HTTP_PROXY",
            "integration_method": "ANY",
            "integration_uri": f"https://{project}.example.com/{path}"}))
        target = Raw(f'format("integrations/%s", {integration.address}.id)',
                     refs=(integration.ref(),))
        out += [integration, Resource("aws_apigatewayv2_route", path, Body({
            "api_id": api.ref(), "route_key": f"{rng.choice(('GET', 'POST'))} /{path}",
            "target": target}))]
    return out
