"""``BearerToken``: a fixed credential sent as ``Authorization: Bearer``.

Five platforms take a static token that way (a Claude API auth token, a Bedrock API key, a
Claude Platform on AWS API key, a ready Google access token on Vertex AI or Google Cloud); each
provider names its own subclass, with its own ``kind`` and setting name.
"""

from __future__ import annotations

from typing import ClassVar

from ._checks import check_header_value
from ._provider import Auth, HttpRequest

__all__ = ["BearerToken"]


class BearerToken(Auth):
    """A token given once, sent as ``Authorization: Bearer <token>`` on every request and
    never refreshed.

    Args:
        token: the credential; checked as a header value (``check_header_value``), so a
            line break or another control character raises ``ConfigurationError`` naming
            ``setting``, never the value.

    Subclasses set ``kind`` (what ``repr`` and telemetry show) and ``setting`` (the name of the
    provider's setting the token came from, used in errors). ``repr`` never shows the token.

    .. versionadded:: 0.3
    """

    kind: ClassVar[str] = "bearer"
    #: The provider setting the token comes from, as errors name it.
    setting: ClassVar[str] = "token"

    def __init__(self, token: str) -> None:
        self._header = "Bearer " + check_header_value(token, self.setting)

    def sign(self, request: HttpRequest) -> HttpRequest:
        request.headers["authorization"] = self._header
        return request
