"""Stateful fuzzing of the language server (hypothesis `RuleBasedStateMachine`).

A client opens documents built from real test-file shapes, edits them at random (insertions,
deletions, edits across line ends, halves of surrogate pairs, CRLF and lone CR, tabs, emoji,
combining marks, form feed, U+2028, NUL), asks for code actions, resolves and applies them, asks for
fix-all and hovers at random positions, changes settings, saves, closes and re-opens documents,
in UTF-8, UTF-16 and UTF-32, with and without `codeAction/resolve` and versioned edits.

Invariants (see `session.py` for the checks made on every message):

- the server answers every request (within `client.REQUEST_TIMEOUT`) and never exits;
- never `window/showMessage`, never an internal error in the log;
- diagnostics are published only for versions the client sent, never going backwards, with ranges
  on character boundaries of that version's text;
- every returned edit names the current version (versioned `documentChanges` when the client
  supports them), its ranges lie on character boundaries and do not overlap, applying it changes
  nothing outside its ranges, and it parses when the text it was made for parses;
- fix-all gives exactly `engine.fix` of the text;
- once the client is done, the diagnostics of each document equal a fresh `engine.lint` of its final
  text when that parses; when it does not, they are the diagnostics last published for a version
  that parsed, moved along with the edits made since (those an edit touched dropped), plus the
  syntax error with `showSyntaxErrors`.

Size: `ATL_FUZZ_STEPS` (default 2,500 steps, about a minute), `ATL_FUZZ_STEPS_PER_EXAMPLE`
(default 40), `ATL_FUZZ_SHRINK=0` (report failures unminimised). Under `CI=true` the run is
derandomised; otherwise `pytest --hypothesis-seed=N` replays one. The nightly run is documented
in docs/robustness.md.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from async_test_lint import engine
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .document import (
    ENCODINGS,
    Change,
    Position,
    Range,
    Text,
    apply_change,
    apply_server_edits,
    unchanged_outside,
)
from .session import FIX_ALL, ClientKind, OpenDocument, Session, summary
from .shapes import module_shapes, seed_modules

STEPS = int(os.environ.get("ATL_FUZZ_STEPS", "2500"))
STEPS_PER_EXAMPLE = int(os.environ.get("ATL_FUZZ_STEPS_PER_EXAMPLE", "40"))
#: "0": report a failure as found, without minimising it (quicker while hunting bugs).
SHRINK = os.environ.get("ATL_FUZZ_SHRINK", "1") != "0"
MAX_OPEN = 3

KINDS = (
    *(
        ClientKind(encoding, resolve, resolve, debounce)
        for encoding in ENCODINGS
        for resolve, debounce in ((True, 5), (False, 0))
    ),
    ClientKind("utf-16", resolve=True, document_changes=True, debounce_ms=5, pull=True),
)

#: what gets typed or pasted: the characters that make positions and line ends hard, code, and
#: fragments of real test files.
PIECES = (
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "    ",
    "\x0c",
    "\u2028",
    "\x85",
    "\x00",
    "😀",
    "👩‍💻",
    "e\u0301",
    "\u0301",
    "日本",
    "\ud83d",  # half a surrogate pair, as a JavaScript editor can send it
    "\ude00",
    "\ufeff",
    "async ",
    "await ",
    "def ",
    "class ",
    "(",
    ")",
    ":",
    "#",
    '"',
    "'''",
    "\\",
    "asyncio.run(fetch(1))",
    "loop.run_until_complete(fetch())",
    "  # noqa: ATL101",
    "\n    async def test_x(self):\n        fetch()\n",
    "\nclass T(unittest.TestCase):\n    async def test_y(self):\n        pass\n",
)

SELECTORS = (None, ["ALL"], ["ATL1"], ["ATL101", "ATL2"], ["ATL3", "ATL4"], "ATL2", 5)
IGNORES = (None, [], ["ATL104"], ["ATL2"], ["ATL001"], ["ATL1", "ATL301"])
SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "enable": st.sampled_from((True, True, True, False, "yes")),
        "select": st.sampled_from(SELECTORS),
        "ignore": st.sampled_from(IGNORES),
        "targetVersion": st.sampled_from(("py39", "py311", "py313", "py2", 7)),
        "showSyntaxErrors": st.booleans(),
        "lintOnChange": st.sampled_from((True, True, False)),
    },
)


@st.composite
def typed_text(draw: st.DrawFn) -> str:
    """What one keystroke-sized change inserts: nothing (a deletion), pieces, or noise."""
    choice = draw(st.integers(0, 9))
    if choice <= 2:
        return ""
    if choice <= 8:
        return "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=4)))
    return draw(st.text(max_size=8))


@st.composite
def fragments(draw: st.DrawFn) -> str:
    """A slice of a real test file, as a paste or a cut-and-paste leaves it."""
    seed = draw(st.sampled_from(seed_modules()))
    start = draw(st.integers(0, len(seed)))
    return seed[start : start + draw(st.integers(1, 200))]


def position_in(data: st.DataObject, text: Text, encoding: str) -> Position:
    """A position anywhere: on the text, past a line's end or the last line, inside a character.

    The draws do not depend on the text (it depends on the server's answers, which timing can
    change, and hypothesis needs a step to draw the same kinds of values when it replays it)."""
    line = data.draw(st.integers(0, 10_000), label="line") % (text.line_count + 1)
    where = data.draw(st.integers(0, 5), label="where")
    column = data.draw(st.integers(0, 10_000), label="column")
    units = text.line_units(line, encoding) if line < text.line_count else 0
    if where == 0:
        return Position(line, units)  # the line's end
    if where == 1:
        return Position(line, units + 1 + column % 3)  # past it
    return Position(line, column % (units + 1))


def range_in(data: st.DataObject, text: Text, encoding: str) -> Range:
    start = position_in(data, text, encoding)
    if data.draw(st.booleans(), label="empty"):
        return Range(start, start)
    end = position_in(data, text, encoding)
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    return Range(start, end)


def workspace_edits(session: Session, document: OpenDocument, edit: Any) -> tuple[int, list[Any]]:
    """The version a workspace edit names and its text edits, checking its shape."""
    if session.kind.document_changes:
        changes = edit.get("documentChanges")
        assert changes and not edit.get("changes"), f"not a versioned edit: {edit}"
        assert len(changes) == 1, changes
        target = changes[0]["textDocument"]
        assert target["uri"] == document.uri, target
        assert isinstance(target.get("version"), int), f"the edit names no version: {target}"
        return target["version"], changes[0]["edits"]
    assert set(edit.get("changes", {})) == {document.uri}, f"edits for another document: {edit}"
    return document.version, edit["changes"][document.uri]


class LanguageServerSession(RuleBasedStateMachine):
    sessions: dict[ClientKind, Session] = {}

    #: what the runs did, printed at the end (steps per rule, final comparisons made).
    stats: collections.Counter[str] = collections.Counter()

    documents = Bundle("documents")

    def __init__(self) -> None:
        super().__init__()
        self._session: Session | None = None
        self.opened = 0
        self.settings_changes = 0

    @invariant()
    def messages_keep_the_promises(self) -> None:
        """Checked after every step: what the server sent meanwhile (see `session.py`)."""
        self.stats["steps"] += 1
        if self._session is not None:
            self._session.check()

    @property
    def session(self) -> Session:
        assert self._session is not None
        return self._session

    @initialize(kind=st.sampled_from(KINDS), editor=SETTINGS)
    def start(self, kind: ClientKind, editor: dict[str, Any]) -> None:
        session = self.sessions.get(kind)
        if session is None or not session.client.alive:
            session = self.sessions[kind] = Session(kind)
        self._session = session
        session.problems.clear()
        session.configure(editor)

    # -- documents

    @precondition(lambda self: len(self.session.documents) < MAX_OPEN)
    @rule(target=documents, text=module_shapes(), untitled=st.booleans())
    def open(self, text: str, untitled: bool) -> str:
        self.stats["open"] += 1
        self.opened += 1
        name = f"test_fuzz_{id(self)}_{self.opened}"
        if untitled:
            uri, path = f"untitled:{name}", None
        else:
            path = str(self.session.folder / "tests" / f"{name}.py")
            uri = f"file://{path}"
        self.session.open(uri, path, text, version=1)
        return uri

    def _document(self, uri: str) -> OpenDocument | None:
        return self.session.documents.get(uri)

    @rule(uri=documents, data=st.data(), bursts=st.integers(1, 6))
    def type(self, uri: str, data: st.DataObject, bursts: int) -> None:
        """Typing: a few `didChange`s of one to three small changes anywhere, with pauses."""
        self.stats["type"] += 1
        for _ in range(bursts):
            pause = data.draw(st.sampled_from((0.0, 0.0, 0.002, 0.02)), label="pause")
            self._edit(uri, data, typed_text(), pause)

    @rule(uri=documents, data=st.data())
    def paste(self, uri: str, data: st.DataObject) -> None:
        """Pasting: a fragment of a test file or a whole new module."""
        self.stats["paste"] += 1
        self._edit(uri, data, st.one_of(fragments(), module_shapes()), 0.0)

    def _edit(
        self, uri: str, data: st.DataObject, texts: st.SearchStrategy[str], pause: float
    ) -> None:
        document = self._document(uri)
        if document is None:
            return
        encoding = self.session.kind.encoding
        changes = []
        text = document.text
        for _ in range(data.draw(st.integers(1, 3), label="changes")):
            if data.draw(st.integers(0, 29), label="whole") == 0:
                change = Change(None, data.draw(module_shapes(), label="new text"))
            else:
                at = range_in(data, Text(text), encoding)
                change = Change(at, data.draw(texts, label="text"))
            changes.append(change)
            text = apply_change(text, change, encoding)[0]
        step = data.draw(st.sampled_from((1, 1, 1, 2, 7)), label="version step")
        self.session.change(document, changes, document.version + step)
        if pause:
            self.session.client.drain(pause)

    @rule(uri=consumes(documents))
    def close(self, uri: str) -> None:
        self.stats["close"] += 1
        if (document := self._document(uri)) is not None:
            self.session.close(document)

    @rule(uri=documents, edited=st.booleans())
    def reopen(self, uri: str, edited: bool) -> None:
        """Closed and opened again at once, as an editor's "revert file" or a rename does: a new
        open of the same URI, whose diagnostics must not mix with the old one's."""
        self.stats["reopen"] += 1
        if (document := self._document(uri)) is None:
            return
        self.session.close(document)
        text = document.text + ("\n# reopened\n" if edited else "")
        self.session.open(uri, document.path, text, version=document.version)

    @precondition(lambda self: self.session.kind.pull)
    @rule(uri=documents)
    def pull(self, uri: str) -> None:
        self.stats["pull"] += 1
        if (document := self._document(uri)) is not None:
            self.session.pull(document)

    @rule(uri=documents)
    def save(self, uri: str) -> None:
        self.stats["save"] += 1
        if (document := self._document(uri)) is not None:
            self.session.save(document)

    @precondition(lambda self: bool(self.session.documents) and self.settings_changes < 3)
    @rule(editor=SETTINGS)
    def change_settings(self, editor: dict[str, Any]) -> None:
        self.stats["change_settings"] += 1
        self.settings_changes += 1
        self.session.configure(editor)

    # -- requests

    @rule(uri=documents, data=st.data())
    def hover(self, uri: str, data: st.DataObject) -> None:
        self.stats["hover"] += 1
        document = self._document(uri)
        if document is None:
            return
        encoding = self.session.kind.encoding
        text = Text(document.text)
        position = position_in(data, text, encoding)
        answer = self.session.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": position.to_json()},
        )
        if answer is None:
            return
        assert answer["contents"]["value"], answer
        start, end = text.strict_span(answer["range"], encoding)
        assert start <= text.offset(position, encoding) <= end, (position, answer["range"])

    @rule(
        uri=documents,
        data=st.data(),
        only=st.sampled_from((None, ["quickfix"], [FIX_ALL], ["source.fixAll"], ["source"])),
        apply=st.booleans(),
        pick=st.integers(0, 100),
        race=st.integers(0, 5),
    )
    def code_action(
        self,
        uri: str,
        data: st.DataObject,
        only: list[str] | None,
        apply: bool,
        pick: int,
        race: int,
    ) -> None:
        self.stats["code_action"] += 1
        document = self._document(uri)
        if document is None:
            return
        at = range_in(data, Text(document.text), self.session.kind.encoding)
        context: dict[str, Any] = {"diagnostics": self._diagnostics_at(document)}
        if only is not None:
            context["only"] = only
        params = {"textDocument": {"uri": uri}, "range": at.to_json(), "context": context}
        if race == 0:
            self._request_while_typing(document, "textDocument/codeAction", params)
            return
        actions = self.session.request("textDocument/codeAction", params) or []
        applicable = []
        for action in actions:
            kind = action.get("kind")
            assert kind in ("quickfix", FIX_ALL), action
            if only is not None and kind == "quickfix":
                assert "quickfix" in only, (only, action)
            if "edit" not in action and self.session.kind.resolve:
                action = self.session.request("codeAction/resolve", action)
            if action.get("edit") is not None:
                applicable.append((action, self._checked_edit(document, action)))
        if apply and applicable:
            self._apply(document, *applicable[pick % len(applicable)])

    def _diagnostics_at(self, document: OpenDocument) -> list[dict[str, Any]]:
        """What an editor puts in the code action context: the last diagnostics it was sent."""
        if not document.publications:
            return []
        return document.publications[-1].diagnostics[:3]

    def _request_while_typing(self, document: OpenDocument, method: str, params: Any) -> None:
        """A request with an edit right behind it. The server may answer for either version (or
        with nothing); a versioned edit must name one of them and apply to its text, an
        unversioned one must apply to one of them."""
        client = self.session.client
        asked = document.version
        number = client.send_request(method, params)
        typed = Change(Range(Position(0, 0), Position(0, 0)), "#\n")
        self.session.change(document, [typed], asked + 1)
        actions = client.wait_for(number, method) or []
        self.session.check()
        for action in actions:
            if action.get("edit") is None:
                continue
            if self.session.kind.document_changes:
                version, _ = workspace_edits(self.session, document, action["edit"])
                assert version in (asked, asked + 1), (version, asked)
                self._checked_edit(document, action, version)
                continue
            problems = []
            for version in (asked, asked + 1):
                try:
                    self._checked_edit(document, action, version)
                    break
                except AssertionError as error:
                    problems.append(f"v{version}: {error}")
            else:
                raise AssertionError("\n".join(problems))

    def _checked_edit(self, document: OpenDocument, action: Any, version: int | None = None) -> str:
        """Check a workspace edit against the version it names; the text after applying it."""
        named, edits = workspace_edits(self.session, document, action["edit"])
        if version is None:
            assert named == document.version, (
                f"an edit for version {named}, the document is at {document.version}"
            )
        old = document.texts[named if version is None else version]
        new, splices = apply_server_edits(old, edits, self.session.kind.encoding)
        assert unchanged_outside(old, new, splices)
        assert new != old, f"an edit that changes nothing: {action}"
        if engine.syntax_ok(old):
            assert engine.syntax_ok(new), f"{action['title']} breaks the syntax:\n{new}"
        if action.get("kind") == FIX_ALL and version is None and self.session.expected.enable:
            index = self.session.oracle_index(document)
            fixed = engine.fix(old, document.path, self.session.expected.settings, index)
            assert new == fixed.text, "fix-all differs from engine.fix"
        return new

    def _apply(self, document: OpenDocument, action: Any, new_text: str) -> None:
        """Apply an action's edit as an editor does: one change per text edit, last first."""
        _, edits = workspace_edits(self.session, document, action["edit"])
        ordered = sorted(
            edits,
            key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
            reverse=True,
        )
        changes = [Change(Range.of(e["range"]), e["newText"]) for e in ordered]
        self.session.change(document, changes, document.version + 1)
        assert document.text == new_text, "the edit applied as changes gives another text"

    # -- the end

    def teardown(self) -> None:
        session = self._session
        if session is None:
            return
        try:
            session.check()
            session.settle()
            for document in session.documents.values():
                self._check_final(session, document)
        finally:
            if session.client.alive:
                session.close_all()
                session.client.drain(0)
                session.problems.clear()

    def _check_final(self, session: Session, document: OpenDocument) -> None:
        assert document.publications, f"nothing was published for {document.uri}"
        last = document.publications[-1]
        assert last.version == document.version, (
            f"{document.uri}: the last diagnostics are for version {last.version},"
            f" the document is at {document.version}"
        )
        expected = session.expected_final(document)
        self.stats["final: exact" if expected is not None else "final: not modelled"] += 1
        if expected is not None:
            assert summary(last.diagnostics) == expected, (
                f"final diagnostics of {document.text!r} ({session.editor_settings})"
            )


@pytest.fixture
def sessions() -> Iterator[dict[ClientKind, Session]]:
    LanguageServerSession.sessions = {}
    yield LanguageServerSession.sessions
    codes = {kind: session.shutdown() for kind, session in LanguageServerSession.sessions.items()}
    LanguageServerSession.sessions = {}
    assert all(code == 0 for code in codes.values()), f"exit codes: {codes}"


def test_language_server_session(sessions: dict[ClientKind, Session]) -> None:
    examples = max(1, STEPS // STEPS_PER_EXAMPLE)
    LanguageServerSession.stats.clear()
    started = time.perf_counter()
    try:
        run_state_machine_as_test(
            LanguageServerSession,
            settings=settings(
                max_examples=examples,
                stateful_step_count=STEPS_PER_EXAMPLE,
                deadline=None,
                derandomize=os.environ.get("CI") == "true",
                phases=[phase for phase in Phase if SHRINK or phase is not Phase.shrink],
                suppress_health_check=list(HealthCheck),
                print_blob=True,
                database=None,
            ),
        )
    finally:
        elapsed = time.perf_counter() - started
        stats = LanguageServerSession.stats
        print(
            f"\n{stats['steps']} steps in {elapsed:.1f} s ({stats['steps'] / elapsed:.0f}/s),"
            f" {len(sessions)} server processes: {dict(sorted(stats.items()))}"
        )
