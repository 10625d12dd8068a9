"""A minimal simulator built only from the sandbox core (used by test_sandbox_core.py): a token
endpoint with its own error shape, a casavi-style ``token`` header guard, a JSON body, a variant."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from crmql.sandbox import SimulatorSpec, Variant
from crmql.sandbox.core.oauth import TokenEndpoint, TokenErrors
from crmql.sandbox.core.requests import BodyError, TokenGuard, json_object, variants_of
from crmql.sandbox.core.state import SandboxState, json_error

SIMULATOR = SimulatorSpec(
    name="demo", routes="demo_simulator:build_routes",
    credentials={"client_id": "demo-id", "client_secret": "demo-secret"},
    token_paths=frozenset({"/token"}),
    variants=(Variant("demo.mode", ("a", "b"), "what the search answers", "test_sandbox_core.py"),),
)
ERRORS = TokenErrors(body=lambda code, message: {"error_message": message, "code": code})
GUARD = TokenGuard(header="token", scheme=None)


def build_routes(state: SandboxState) -> list[BaseRoute]:
    async def search(request: Request) -> Response:
        reason = GUARD.refusal(state, "demo", request.headers)
        if reason is not None:
            return json_error(401, {"error_message": reason})
        try:
            body = json_object(await request.body(), empty_is_object=False)
        except BodyError as e:
            return json_error(400, {"error_message": str(e)})
        mode = variants_of(state.settings, ["demo.mode"])["demo.mode"]
        return JSONResponse({"mode": mode, "echo": body})

    token = TokenEndpoint(state, "demo", SIMULATOR.credentials, grants=("client_credentials",), errors=ERRORS)
    return [Route("/token", token.handle, methods=["POST"]), Route("/things/search", search, methods=["POST"])]
