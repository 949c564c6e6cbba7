"""Graph's error object (`{"error": {"code", "message", "innerError"}}`), which the SDKs raise as ODataError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

BAD_REQUEST = "Request_BadRequest"
NOT_FOUND = "Request_ResourceNotFound"


class GraphError(Exception):
    """An answer in Graph's error shape; `inner` joins Graph's own innerError fields (our structured detail)."""

    def __init__(self, status: int, code: str, message: str, inner: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner or {}


def bad_request(message: str, **inner: Any) -> GraphError:
    return GraphError(400, BAD_REQUEST, message, inner)


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        NOT_FOUND,
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present.",
    )


def error_document(
    code: str, message: str, request_id: str, client_request_id: str, inner: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": client_request_id,
                **(inner or {}),
            },
        }
    }


def error_body(request: Request, code: str, message: str, inner: dict[str, Any] | None = None) -> dict[str, Any]:
    request_id = getattr(request.state, "request_id", "")
    return error_document(code, message, request_id, request.headers.get("client-request-id", ""), inner)


def error_response(request: Request, error: GraphError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="licensing"'} if error.status == 401 else None
    return JSONResponse(error_body(request, error.code, error.message, error.inner), error.status, headers=headers)


def refused(error: str, message: str, detail: dict[str, Any] | None) -> GraphError:
    """A command the core refused, as Graph answers it: 400, Graph's wording, and in innerError our detail (the
    error code, the product's own message, the plans or SKUs involved, the suggested fix)."""
    sku = (detail or {}).get("sku")
    if error == "CountViolation" and isinstance(sku, dict):
        graph_message = f"Subscription with SKU {sku['skuId']} does not have any available licenses."
    else:
        graph_message = message
    inner: dict[str, Any] = {"errorCode": error, "productMessage": message}
    if detail:
        inner["suggestedFix"] = detail.get("suggestedFix")
        inner["detail"] = {key: value for key, value in detail.items() if key not in ("message", "suggestedFix")}
    return GraphError(400, BAD_REQUEST, graph_message, inner)
