"""Microsoft's Graph SDK for Python (msgraph-sdk) pointed at a `licensing serve`: only the base URL changes."""

from __future__ import annotations

from typing import Any

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    AnonymousAuthenticationProvider,
    AuthenticationProvider,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient


class StaticToken(AccessTokenProvider):
    """The server's --token, as an admin script would hold it."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] = {}) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator(["127.0.0.1"])


def graph_client(base_url: str, token: str | None = None) -> GraphServiceClient:
    auth: AuthenticationProvider = (
        BaseBearerTokenAuthenticationProvider(StaticToken(token)) if token else AnonymousAuthenticationProvider()
    )
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = base_url
    return GraphServiceClient(request_adapter=adapter)
