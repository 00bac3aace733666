"""pygls' protocol, with the server's own text synchronisation and capability post-processing."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import RPCRequest

if TYPE_CHECKING:
    from .server import AsyncTestLintServer

Step = Generator[Any, Any, None]


class Protocol(LanguageServerProtocol):
    """Document text lives in `documents.DocumentStore` (see there why); capabilities are adjusted
    once pygls has built them (pull diagnostics only for clients that can pull and refresh)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._notification_ids: list[Any] = []

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        cast("AsyncTestLintServer", self._server).adjust_capabilities(result.capabilities)
        return result

    def handle_message(self, message: Any) -> None:
        """After `shutdown`, a request gets InvalidRequest as LSP says (pygls drops it silently,
        leaving the client waiting forever); notifications other than `exit` are still dropped."""
        if self._shutdown and isinstance(message, RPCRequest) and message.method != types.EXIT:
            refused = JsonRpcInvalidRequest("the server is shutting down")
            self._send_response(message.id, error=refused.to_response_error())
            return
        super().handle_message(message)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls 2.1 files a notification's future in `_request_futures` under a fresh id that
        nothing ever removes: a Future, its condition and locks leaked per keystroke (+27 MB of RSS
        over 10,000 edits). Entries of finished notifications are dropped at the next one (not
        from a done-callback: `shutdown` cancels the pending futures while iterating the dict)."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        if callback != self._check_handler_result:
            return  # a request: its response removes the entry
        pending = []
        for known in [*self._notification_ids, msg_id]:
            future = self._request_futures.get(known)
            if future is None or future.done():
                self._request_futures.pop(known, None)
            else:
                pending.append(known)
        self._notification_ids = pending

    def _user(self, method: str, params: Any) -> Step:
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Step:
        yield from self._user(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Step:
        yield from self._user(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Step:
        yield from self._user(types.TEXT_DOCUMENT_DID_CLOSE, params)
