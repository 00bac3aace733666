"""One fuzzing client session: the server process, the client's documents and the checks.

Every message the server sends is checked as it arrives:

- no `window/showMessage` (nor `showMessageRequest`), and no `window/logMessage` of type Error: the
  server logs a handler's exception as an Error, so one is an internal error;
- `publishDiagnostics` names an open document and a version the client sent, versions never go
  backwards within one open of a document, and every range lies on character boundaries of the
  text of the version it names (in the negotiated encoding).

Requests are checked by the state machine (`test_lsp_session.py`) with the helpers here.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from async_test_lint import config, engine
from async_test_lint.analysis.index import ProjectIndex
from async_test_lint.model import Settings

from .client import StdioClient
from .document import Change, InvalidPosition, Splice, Text, apply_change, move_span

SYNTAX_ERROR = engine.SYNTAX_ERROR_CODE
FIX_ALL = "source.fixAll.async-test-lint"
ERROR_LOG = 1


@dataclass(frozen=True)
class ClientKind:
    """What the client offers; one server process is kept per kind."""

    encoding: str
    resolve: bool  # codeAction/resolve for edits (else the server sends edits at once)
    document_changes: bool  # versioned `documentChanges` in workspace edits
    debounce_ms: int
    #: pull diagnostics (`textDocument/diagnostic`): the server then never pushes.
    pull: bool = False

    def capabilities(self) -> dict[str, Any]:
        code_action: dict[str, Any] = {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["quickfix", "source", "source.fixAll"]}
            },
            "dataSupport": True,
            "isPreferredSupport": True,
        }
        if self.resolve:
            code_action["resolveSupport"] = {"properties": ["edit"]}
        capabilities: dict[str, Any] = {
            "general": {"positionEncodings": [self.encoding]},
            "textDocument": {
                "synchronization": {"didSave": True, "dynamicRegistration": False},
                "publishDiagnostics": {"versionSupport": True},
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "codeAction": code_action,
            },
            "workspace": {
                "configuration": True,
                "workspaceEdit": {"documentChanges": self.document_changes},
                "didChangeConfiguration": {"dynamicRegistration": True},
                "didChangeWatchedFiles": {"dynamicRegistration": True},
            },
            "window": {"workDoneProgress": True},
        }
        if self.pull:
            capabilities["textDocument"]["diagnostic"] = {"relatedDocumentSupport": False}
            capabilities["workspace"]["diagnostics"] = {"refreshSupport": True}
        return capabilities


@dataclass
class Publication:
    version: int
    diagnostics: list[dict[str, Any]]


@dataclass
class OpenDocument:
    """One open of a URI (a close and re-open starts a new one)."""

    uri: str
    path: str | None
    texts: dict[int, str]
    version: int
    #: the splices that made each version from the one before (code points).
    splices: dict[int, list[Splice]] = field(default_factory=dict)
    publications: list[Publication] = field(default_factory=list)
    #: `enable` was switched meanwhile: the "last good diagnostics" are not modelled then.
    enable_changed: bool = False
    #: pull clients: the last report's result id and items.
    pulled: tuple[str | None, list[dict[str, Any]]] | None = None

    @property
    def text(self) -> str:
        return self.texts[self.version]

    def edit(self, changes: list[Change], encoding: str, version: int) -> None:
        text, splices = self.text, []
        for change in changes:
            text, splice = apply_change(text, change, encoding)
            splices.append(splice)
        self.texts[version] = text
        self.splices[version] = splices
        self.version = version

    def later_splices(self, version: int) -> Iterator[Splice]:
        for number in sorted(self.splices):
            if number > version:
                yield from self.splices[number]


# -- editor settings and what they mean for the engine (written out here, not the server's code)

TARGETS: dict[Any, tuple[int, int] | None] = {
    "py39": (3, 9),
    "py311": (3, 11),
    "py313": (3, 13),
    "py2": None,  # invalid: ignored (and logged as a warning)
    7: None,
}


@dataclass(frozen=True)
class Expected:
    settings: Settings
    enable: bool
    show_syntax_errors: bool
    lint_on_change: bool


def expected_settings(editor: dict[str, Any], project: Settings) -> Expected:
    def flag(key: str, default: bool) -> bool:
        value = editor.get(key)
        return value if isinstance(value, bool) else default

    engine_settings = project
    for key in ("select", "ignore"):
        value = editor.get(key)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            engine_settings = dataclasses.replace(engine_settings, **{key: frozenset(value)})
    target = TARGETS.get(editor.get("targetVersion"))
    if target is not None:
        engine_settings = dataclasses.replace(engine_settings, target_version=target)
    return Expected(
        engine_settings,
        flag("enable", True),
        flag("showSyntaxErrors", False),
        flag("lintOnChange", True),
    )


def summary(diagnostics: list[dict[str, Any]]) -> list[tuple[str, tuple[int, int, int, int], str]]:
    """What the comparison looks at: code, range, message (sorted)."""
    found = []
    for item in diagnostics:
        start, end = item["range"]["start"], item["range"]["end"]
        span = (start["line"], start["character"], end["line"], end["character"])
        found.append((str(item.get("code")), span, item["message"]))
    return sorted(found)


class Session:
    """A server process for one `ClientKind`, reused by many examples with fresh documents."""

    def __init__(self, kind: ClientKind) -> None:
        self.kind = kind
        self.folder = Path(tempfile.mkdtemp(prefix="atl-fuzz-"))
        (self.folder / "tests").mkdir()
        (self.folder / "pyproject.toml").write_text("[tool.async-test-lint]\n", encoding="utf-8")
        self.project = config.load_pyproject(self.folder / "pyproject.toml")
        self.editor_settings: dict[str, Any] = {}
        self.documents: dict[str, OpenDocument] = {}
        #: per URI, the opens closed by the client whose clearing publication has not come yet.
        self.closing: dict[str, list[OpenDocument]] = {}
        self.problems: list[str] = []
        self.configurations_sent = 0
        self.client = StdioClient()
        self.client.on_notification = self._notified
        self.client.handlers["workspace/configuration"] = self._configuration
        self.client.handlers["window/showMessageRequest"] = self._popup
        self.client.request(
            "initialize",
            {
                "processId": None,
                "rootUri": self.folder.as_uri(),
                "workspaceFolders": [{"uri": self.folder.as_uri(), "name": "fuzz"}],
                "capabilities": kind.capabilities(),
                "initializationOptions": {"debounceMs": kind.debounce_ms},
            },
        )
        self.client.notify("initialized", {})

    # -- the server's requests and notifications

    def _configuration(self, params: Any) -> list[Any]:
        self.configurations_sent += 1
        return [self.editor_settings for _ in params["items"]]

    def _popup(self, params: Any) -> None:
        self.problems.append(f"window/showMessageRequest: {params}")

    def _notified(self, message: dict[str, Any]) -> None:
        method, params = message["method"], message.get("params")
        if method == "window/showMessage":
            self.problems.append(f"window/showMessage: {params}")
        elif method == "window/logMessage" and params["type"] == ERROR_LOG:
            self.problems.append(f"an internal error was logged: {params['message']}")
        elif method == "textDocument/publishDiagnostics":
            if self.kind.pull:
                self.problems.append(f"a push to a client that pulls: {params}")
                return
            try:
                self._published(params)
            except AssertionError as error:
                self.problems.append(str(error))

    def _published(self, params: dict[str, Any]) -> None:
        uri, version, diagnostics = params["uri"], params.get("version"), params["diagnostics"]
        closing = self.closing.get(uri)
        if version is None and not diagnostics and closing:
            closing.pop(0)  # the clearing publication of a close
            return
        document = closing[0] if closing else self.documents.get(uri)
        assert document is not None, f"diagnostics for {uri}, which is not open: {params}"
        assert version is not None, f"a publication without a version: {params}"
        assert version in document.texts, (
            f"diagnostics for version {version} of {uri}, never sent (at {document.version})"
        )
        if document.publications:
            last = document.publications[-1].version
            assert version >= last, f"{uri}: version {version} published after {last}"
        text = Text(document.texts[version])
        for item in diagnostics:
            try:
                text.strict_span(item["range"], self.kind.encoding)
            except InvalidPosition as error:
                raise AssertionError(
                    f"{uri} v{version}: {item['code']} has an invalid range ({error}) in"
                    f" {text.text!r}"
                ) from None
        document.publications.append(Publication(version, diagnostics))

    def pull(self, document: OpenDocument) -> None:
        """Ask for the document's diagnostics (pull clients); recorded like a publication."""
        previous = document.pulled
        params: dict[str, Any] = {"textDocument": {"uri": document.uri}}
        if previous is not None:
            params["previousResultId"] = previous[0]
        report = self.request("textDocument/diagnostic", params)
        if report["kind"] == "unchanged":
            assert previous is not None and report["resultId"] == previous[0], report
            items = previous[1]
        else:
            assert report["kind"] == "full", report
            items = report["items"]
        document.pulled = (report.get("resultId"), items)
        self._published({"uri": document.uri, "version": document.version, "diagnostics": items})
        self.check()

    def check(self) -> None:
        """Raise what the message checks found since the last call."""
        self.client.drain(0)
        if self.problems:
            problems, self.problems = self.problems, []
            raise AssertionError("\n".join(problems))

    # -- what the client does

    def open(self, uri: str, path: str | None, text: str, version: int) -> OpenDocument:
        document = OpenDocument(uri, path, {version: text}, version)
        self.documents[uri] = document
        self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )
        return document

    def change(self, document: OpenDocument, changes: list[Change], version: int) -> None:
        document.edit(changes, self.kind.encoding, version)
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": document.uri, "version": version},
                "contentChanges": [change.to_json() for change in changes],
            },
        )

    def close(self, document: OpenDocument) -> None:
        del self.documents[document.uri]
        if not self.kind.pull:  # a push client is sent an empty publication when it closes
            self.closing.setdefault(document.uri, []).append(document)
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": document.uri}})

    def save(self, document: OpenDocument) -> None:
        self.client.notify("textDocument/didSave", {"textDocument": {"uri": document.uri}})

    def configure(self, settings: dict[str, Any]) -> None:
        if settings.get("enable") != self.editor_settings.get("enable"):
            for document in self.documents.values():
                document.enable_changed = True
        self.editor_settings = settings
        answered = self.configurations_sent
        self.client.notify("workspace/didChangeConfiguration", {"settings": None})
        # Settings are eventually consistent: the server asks for them, and what it answers
        # meanwhile may use the old ones. Wait for the round trip so the checks know which hold.
        self.client.wait_until(
            lambda: self.configurations_sent > answered, "workspace/configuration"
        )

    def request(self, method: str, params: Any) -> Any:
        try:
            return self.client.request(method, params)
        finally:
            self.check()

    @property
    def expected(self) -> Expected:
        return expected_settings(self.editor_settings, self.project)

    # -- the final state

    def settle(self) -> None:
        """Save every document (a save lints even with lintOnChange off), wait until the server
        answered a request about each of them (it lints the current text to answer), then until
        it has been quiet for a while."""
        for document in self.documents.values():
            self.save(document)
        for document in self.documents.values():
            self.request(
                "textDocument/hover",
                {"textDocument": {"uri": document.uri}, "position": {"line": 0, "character": 0}},
            )
        self.client.drain(0.3)
        self.check()
        if self.kind.pull:
            for document in self.documents.values():
                self.pull(document)

    def expected_final(self, document: OpenDocument) -> list[tuple[Any, ...]] | None:
        """The diagnostics the final text must show; None when the model cannot tell."""
        expected = self.expected
        if not expected.enable:
            return []
        parses = engine.syntax_ok(document.text)
        if parses:
            index = self.oracle_index(document)
            found = engine.lint(document.text, document.path, expected.settings, index).diagnostics
        else:  # the error itself, whatever `select` says (it is shown only with showSyntaxErrors)
            only_syntax = dataclasses.replace(
                expected.settings, select=frozenset({SYNTAX_ERROR}), ignore=frozenset()
            )
            found = engine.lint(document.text, document.path, only_syntax).diagnostics
        lines = Text(document.text)
        encoding = self.kind.encoding

        def entry(code: str, start: int, end: int, message: str) -> tuple[Any, ...]:
            first, last = lines.position(start, encoding), lines.position(end, encoding)
            return (code, (first.line, first.character, last.line, last.character), message)

        if parses:
            return sorted(
                entry(
                    d.code,
                    _offset(document.text, d.range.start),
                    _offset(document.text, d.range.end),
                    d.message,
                )
                for d in found
            )
        kept = self.tracked_good(document)
        if kept is None:
            return None
        shown = [entry(*item) for item in kept]
        if expected.show_syntax_errors and expected.settings.is_enabled(SYNTAX_ERROR):
            (error,) = found
            start = _offset(document.text, error.range.start)
            end = _offset(document.text, error.range.end)
            shown.append(entry(error.code, start, end, error.message))
        return sorted(shown)

    def oracle_index(self, document: OpenDocument) -> ProjectIndex:
        """What the server's index holds for `document`: its workspace folder is empty on disk, so
        the other open files of the folder (an `untitled:` document belongs to no folder)."""
        if document.path is None:
            return ProjectIndex()
        others = {
            other.path: other.text
            for other in self.documents.values()
            if other.path is not None and other is not document
        }
        return engine.index_sources(others, self.expected.settings)

    def tracked_good(self, document: OpenDocument) -> list[tuple[str, int, int, str]] | None:
        """The last publication for a version that parsed, moved along with the edits since."""
        if document.enable_changed:
            return None
        for publication in reversed(document.publications):
            text = document.texts[publication.version]
            if not engine.syntax_ok(text):
                continue
            lines = Text(text)
            kept = []
            for item in publication.diagnostics:
                if item.get("code") == SYNTAX_ERROR:
                    continue
                span: tuple[int, int] | None = lines.strict_span(item["range"], self.kind.encoding)
                for splice in document.later_splices(publication.version):
                    if span is None:
                        break
                    span = move_span(span, splice)
                if span is not None:
                    kept.append((str(item["code"]), span[0], span[1], item["message"]))
            return kept
        return []

    def close_all(self) -> None:
        for document in list(self.documents.values()):
            self.close(document)

    def shutdown(self) -> int | None:
        return self.client.close()


def _offset(text: str, position: Any) -> int:
    """A code-point offset of the engine's (line, column) position."""
    return Text(text).starts[position.line] + position.column
