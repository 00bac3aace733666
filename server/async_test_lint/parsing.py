"""Parse once per document version with the fast `ast` parser, whatever Python wrote the file.

The running interpreter may be older than the code it analyses (a server on 3.9 reading a file with
`type X = ...` or PEP 701 f-strings). When `ast` rejects a file that contains newer syntax, libcst's
parser (which knows 3.0-3.14 grammar) locates those constructs and they are overwritten in place by
same-length text the running `ast` accepts: `type X = v` -> `type;X = v`, `def f[T](x)` ->
`def f(   x)`, an f-string -> a blank string literal, a `match`/`case` header -> `if (   )`,
`except*` -> `except `. Every other character keeps its line and column, so positions need no
mapping. What those constructs contain is not analysed on that interpreter; nothing else is lost.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass
from typing import Any

from .model import Position, TextRange
from .source import BOM, LineIndex

_NEWER_SYNTAX_HINT = re.compile(
    r"^[ \t]*(?:type[ \t]+\w|match[ \t(\[{]|case[ \t]|except[ \t]*\*"
    r"|(?:async[ \t]+)?def[ \t]+\w+[ \t]*\[|class[ \t]+\w+[ \t]*\[)"
    r"|\b[fFtT][rR]?['\"]|\b[rR][fFtT]['\"]",
    re.MULTILINE,
)


#: a line break right after another one (a CRLF pair is one break).
_EMPTY_LINE = re.compile(r"(?:\r\n|\r|\n)(?:\r\n|\r|\n)")


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    range: TextRange


@dataclass(frozen=True)
class ParsedSource:
    """An `ast` tree and the index that turns its byte columns into code-point positions."""

    tree: ast.Module
    text: str
    lines: LineIndex
    _parsed_lines: LineIndex
    _bom_shift: int

    def position(self, lineno: int, byte_column: int) -> Position:
        position = self._parsed_lines.from_ast(lineno, byte_column)
        if self._bom_shift and position.line == 0:
            return Position(0, position.column + self._bom_shift)
        return position

    def node_range(self, node: ast.AST) -> TextRange:
        start = self.position(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_lineno = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        end = start if end_col is None else self.position(end_lineno, end_col)
        return TextRange(start, end)

    def source_of(self, node: ast.AST) -> str:
        return self.lines.slice(self.node_range(node))


def parse_python(text: str) -> ParsedSource | SyntaxProblem:
    """Parse `text`; a file that is not valid Python of any supported version is a SyntaxProblem."""
    lines = LineIndex(text)
    bom_shift = 1 if text.startswith(BOM) else 0
    parse_text = text[bom_shift:]
    try:
        tree = _ast_parse(parse_text)
    except SyntaxError as error:
        neutralised = _neutralise_newer_syntax(parse_text)
        if neutralised is not None:
            try:
                tree = _ast_parse(neutralised)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return _problem_from_syntax_error(error, lines, bom_shift)
            return ParsedSource(tree, text, lines, LineIndex(neutralised), bom_shift)
        return _problem_from_syntax_error(error, lines, bom_shift)
    except ValueError as error:  # NUL bytes before Python 3.12
        return SyntaxProblem(str(error), _first_nul_range(text, lines))
    except (RecursionError, MemoryError):
        return SyntaxProblem(
            "the file is nested too deeply for the Python parser",
            TextRange(Position(0, 0), Position(0, 0)),
        )
    parsed_lines = lines if not bom_shift else LineIndex(parse_text)
    return ParsedSource(tree, text, lines, parsed_lines, bom_shift)


def _ast_parse(text: str) -> ast.Module:
    # Invalid escape sequences warn while parsing (DeprecationWarning, SyntaxWarning on 3.12+):
    # noise on the server's stderr, and a SyntaxError for valid code under `-W error`.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def _first_nul_range(text: str, lines: LineIndex) -> TextRange:
    start = lines.position(max(text.find("\x00"), 0))
    return TextRange(start, Position(start.line, start.column + 1))


def _problem_from_syntax_error(
    error: SyntaxError, lines: LineIndex, bom_shift: int
) -> SyntaxProblem:
    message = error.msg or "invalid syntax"
    if "null bytes" in message:
        return SyntaxProblem(message, _first_nul_range(lines.text, lines))
    line = max((error.lineno or 1) - 1, 0)
    if line >= lines.line_count:
        line = lines.line_count - 1
    line_text = lines.line_text(line)
    # SyntaxError.offset is 1-based and counts code points of the line (str input).
    column = min(max((error.offset or 1) - 1, 0), len(line_text))
    if bom_shift and line == 0:
        column = min(column + bom_shift, len(line_text))
    start = Position(line, column)
    end = Position(line, min(column + 1, len(line_text))) if line_text else start
    return SyntaxProblem(message, TextRange(start, end))


def _neutralise_newer_syntax(text: str) -> str | None:
    """The same text with newer-than-this-interpreter constructs blanked, or None."""
    if sys.version_info >= (3, 14) or not _NEWER_SYNTAX_HINT.search(text):
        return None
    try:
        return _Neutraliser(text).run()
    except Exception:
        # libcst rejects it too (or cannot cope): a genuine syntax error.
        return None


class _Neutraliser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LineIndex(text)
        self.chars = list(text)

    def run(self) -> str | None:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider

        wrapper = MetadataWrapper(cst.parse_module(self.text), unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        spans = []
        for node, code_range in positions.items():
            start = self._offset(code_range.start)
            end = self._offset(code_range.end)
            spans.append((end - start, start, end, node))
        # Innermost first: an enclosing construct then blanks over whatever its parts wrote.
        spans.sort(key=lambda span: span[0])
        changed = False
        for _, start, end, node in spans:
            changed |= self._neutralise(node, start, end, positions)
        return "".join(self.chars) if changed else None

    def _offset(self, code_position: Any) -> int:
        return self.lines.offset(Position(code_position.line - 1, code_position.column))

    def _neutralise(self, node: Any, start: int, end: int, positions: Any) -> bool:
        import libcst as cst

        version = sys.version_info
        if version < (3, 12):
            if isinstance(node, cst.TypeAlias):
                if node.type_parameters:
                    brackets = positions[node.type_parameters]
                    self._subscript_if_broken(
                        self._offset(brackets.start), self._offset(brackets.end)
                    )
                keyword_end = start + len("type")
                if keyword_end < len(self.chars) and self.chars[keyword_end] in " \t":
                    self.chars[keyword_end] = ";"
                    return True
                return False
            if isinstance(node, cst.TypeParameters):
                self._blank(start, end)
                return True
            if isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node.type_parameters:
                brackets = positions[node.type_parameters]
                self._parenthesise_type_parameters(
                    self._offset(brackets.start), self._offset(brackets.end), end
                )
                return True
            if isinstance(node, cst.FormattedString):
                self._blank_string(start, end)
                return True
        templated = getattr(cst, "TemplatedString", None)
        if templated is not None and isinstance(node, templated):
            self._blank_string(start, end)
            return True
        if version < (3, 10):
            if isinstance(node, cst.Match):
                return self._as_if_header(start, self._header_colon(positions[node.subject]))
            if isinstance(node, cst.MatchCase):
                last = node.guard if node.guard is not None else node.pattern
                return self._as_if_header(start, self._header_colon(positions[last]))
        if version < (3, 11) and isinstance(node, cst.ExceptStarHandler):
            star = self.text.find("*", start, end)
            if star >= 0:
                self.chars[star] = " "
                return True
        return False

    def _blank(self, start: int, end: int, *, continued: bool = True) -> None:
        """Spaces over [start, end), keeping line breaks, each continued by a backslash unless
        the span ends up inside brackets."""
        for offset in range(start, end):
            if self.chars[offset] not in "\r\n":
                self.chars[offset] = " "
        if not continued:
            return
        for offset in range(start + 1, end):
            if self.chars[offset] in "\r\n" and self.chars[offset - 1] not in "\r\n":
                self.chars[offset - 1] = "\\"

    def _parenthesise_type_parameters(self, start: int, end: int, limit: int) -> None:
        """`def f[T](x)` -> `def f(   x)`, `class C[T]:` -> `class C( ):`.

        The type parameters' `[` becomes the parenthesis of the parameters (or bases), so line
        breaks inside them need no continuation: blank lines there are fine too.
        """
        opening = end
        while opening < limit and self.text[opening] in " \t\f\\\r\n":
            opening += 1
        if opening < limit and self.text[opening] == "(":
            self._blank(start, opening + 1, continued=False)
        else:  # a class without bases
            self._blank(start, end, continued=False)
            self.chars[end - 1] = ")"
        self.chars[start] = "("

    def _subscript_if_broken(self, start: int, end: int) -> None:
        """`type X[\n\n T] = v` -> `type;X[\n\n0 ] = v` when a line inside is empty.

        A blank line cannot be continued with a backslash, so the alias becomes a subscript
        assignment instead (a name `X` is then not bound on this interpreter).
        """
        if not _EMPTY_LINE.search(self.text, start, end):
            return
        self._blank(start, end, continued=False)
        self.chars[start] = "["
        self.chars[end - 1] = "]"
        first_blank = next(i for i in range(start + 1, end) if self.chars[i] not in "\r\n")
        self.chars[first_blank] = "0"

    def _blank_string(self, start: int, end: int) -> None:
        segment = self.text[start:end]
        multiline = "\n" in segment or "\r" in segment
        last_line = len(segment) - max(segment.rfind("\n"), segment.rfind("\r")) - 1
        for offset in range(start, end):
            if self.chars[offset] not in "\r\n":
                self.chars[offset] = " "
        if multiline and last_line < 3:
            # `f"{x\n}"` (PEP 701): no room for a closing `"""` on the last line, and
            # overwriting the break would move every later line: `(""` ... `)` instead.
            self.chars[start : start + 3] = list('(""')
            self.chars[end - 1] = ")"
            return
        quote = '"""' if multiline else '"'
        for index, char in enumerate(quote):
            self.chars[start + index] = char
            self.chars[end - 1 - index] = char

    def _header_colon(self, code_range: Any) -> int:
        """The offset of the `:` ending a match/case header whose last part ends at `code_range`.

        libcst's range of a parenthesised subject, pattern or guard leaves its parentheses out;
        only closing parentheses, blanks, comments and continuations stand before the colon.
        """
        offset = self._offset(code_range.end)
        text = self.text
        while offset < len(text):
            char = text[offset]
            if char == ":":
                return offset
            if char == "#":
                while offset < len(text) and text[offset] not in "\r\n":
                    offset += 1
                continue
            offset += 1
        return -1

    def _as_if_header(self, start: int, colon: int) -> bool:
        """`match x` / `case p if g` (up to its colon) -> `if (   )`, keeping every line break."""
        if colon < start + 5 or self.chars[colon - 1] in "\r\n":
            return False
        self._blank(start, colon)
        self.chars[start : start + 4] = list("if (")
        self.chars[colon - 1] = ")"
        return True
