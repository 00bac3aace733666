"""pygls' protocol, with the server's own text synchronisation and capability post-processing."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method

if TYPE_CHECKING:
    from .server import AsyncTestLintServer

Step = Generator[Any, Any, None]


class Protocol(LanguageServerProtocol):
    """Document text lives in `documents.DocumentStore` (see there why); capabilities are adjusted
    once pygls has built them (pull diagnostics only for clients that can pull and refresh)."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        cast("AsyncTestLintServer", self._server).adjust_capabilities(result.capabilities)
        return result

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
