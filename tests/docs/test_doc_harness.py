"""The docs harness itself: it reads commands as a shell would, and a broken doc fails it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.doc_commands import Command, DocSyntaxError, parse
from tests.support.doc_runner import check_doc, split_chain, strip_comment

FENCE = "```"


def doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guide.md"
    path.write_text(text.replace("~~~", FENCE), encoding="utf-8")
    return path


def scratch(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str) -> Path:
        root = tmp_path / "scratch" / name
        root.mkdir(parents=True)
        return root

    return make


def test_commands_are_read_as_a_shell_reads_them(tmp_path: Path) -> None:
    commands = parse(
        doc(
            tmp_path,
            "Prose.\n\n~~~bash\n# a comment line\nautan search \\\n  'q' -k 2   # trailing\n"
            "AUTAN_X=1 autan tool list\n~~~\n\n~~~console\n$ autan tool list --json\n"
            '{"ok": true}\n~~~\n\n~~~python\nprint("not a shell block")\n~~~\n',
        )
    )
    assert [(c.line, c.text) for c in commands] == [
        (5, "autan search 'q' -k 2   # trailing"),
        (7, "AUTAN_X=1 autan tool list"),
        (11, "autan tool list --json"),
    ]
    assert commands[2].expect == ['{"ok": true}']
    assert strip_comment(commands[0].text) == "autan search 'q' -k 2"
    assert strip_comment("autan ask --model openai:http://h/v1#m 'a # b'") == (
        "autan ask --model openai:http://h/v1#m 'a # b'"
    )
    assert split_chain("cd x && export A='a;b' ; autan runs list") == [
        ("", "cd x"),
        ("&&", "export A='a;b'"),
        (";", "autan runs list"),
    ]


def test_directives_steer_the_block_after_them(tmp_path: Path) -> None:
    commands = parse(
        doc(
            tmp_path,
            "<!-- doc-test: skip 2 needs a GPU -->\n<!-- doc-test: exit 2 -->\n~~~sh\n"
            "autan a\nautan b\n~~~\n\n<!-- doc-test: file flow.yaml -->\n~~~yaml\nname: x\n~~~\n"
            "\n~~~bash\nautan c\n~~~\n~~~text\nline one\n~~~\n",
        )
    )
    a, b, saved, c = commands
    assert (a.skip, a.exit_code, b.skip, b.exit_code) == (None, 2, "needs a GPU", 2)
    assert (saved.text, saved.content) == ("flow.yaml", "name: x\n")
    assert (c.exit_code, c.expect) == (0, ["line one"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("<!-- doc-test: skip -->\n~~~bash\nls\n~~~\n", "needs a reason"),
        ("<!-- doc-test: frobnicate -->\n~~~bash\nls\n~~~\n", "unknown directive"),
        ("<!-- doc-test: loopback -->\nProse in between.\n~~~bash\nls\n~~~\n", "must precede"),
    ],
)
def test_a_directive_the_harness_cannot_read_is_an_error(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(DocSyntaxError, match=message):
        parse(doc(tmp_path, text))


def test_a_doc_whose_commands_work_passes(tmp_path: Path) -> None:
    guide = doc(
        tmp_path,
        "~~~bash\nexport GREETING=hello && mkdir -p notes && cd notes\n"
        'echo "$GREETING from $(basename "$PWD")" > hi.txt && cat hi.txt\n'
        'autan tool run calculator --args \'{"expression": "6*7"}\'\n~~~\n~~~text\n'
        '{"ok": true, "expression": "6*7", "value": 42, "error": null}\n~~~\n\n'
        "<!-- doc-test: exit 2 -->\n~~~bash\nautan tool run calculater\n~~~\n\n"
        "<!-- doc-test: skip needs the internet -->\n~~~bash\ncurl https://example.com/\n~~~\n",
    )
    assert check_doc(guide, scratch(tmp_path)) == []


@pytest.mark.parametrize(
    "block, why",
    [
        ("autan tool run calculater --args '{}'", "exited 2, the doc says 0"),
        ("ls no-such-file", "exited 2, the doc says 0"),
        ("cd no-such-dir && autan tool list", "exited 1, the doc says 0"),
        (
            'autan tool run calculator --args \'{"expression": "1+1"}\'\n~~~\n~~~text\n'
            '{"ok": true, "value": 3}',
            "the doc shows",
        ),  # fmt: skip
    ],
)
def test_a_doc_change_that_breaks_a_command_fails(tmp_path: Path, block: str, why: str) -> None:
    problems = check_doc(doc(tmp_path, f"# Guide\n\n~~~bash\n{block}\n~~~\n"), scratch(tmp_path))
    assert len(problems) == 1 and why in problems[0], problems
    assert problems[0].startswith("guide.md:4: `")


def test_commands_run_on_scratch_dirs_not_the_readers(tmp_path: Path) -> None:
    guide = doc(tmp_path, "~~~bash\nautan memory add 'the sky is green'\nautan memory list\n~~~\n")
    reader_home = Path.home()
    assert check_doc(guide, scratch(tmp_path)) == []
    assert Path.home() == reader_home
    assert list((tmp_path / "scratch" / "guide" / "home").rglob("*"))  # the data went here


@pytest.mark.parametrize(
    "text",
    [
        # a placeholder filled from what an earlier command printed
        "<!-- doc-test: fill RUN_ID id=(\\w+) -->\n~~~bash\necho id=abc123\n"
        "test RUN_ID = abc123\n~~~\n",
        # web addresses answered by the loopback stand-in
        "<!-- doc-test: loopback -->\n~~~bash\nautan fetch --json https://example.com/\n~~~\n"
        "~~~text\n...Stand-in page...\n~~~\n",
        # an outcome stated for one command of a block
        "<!-- doc-test: expect 2 value: 42 -->\n~~~bash\necho one\necho 'the value: 42.'\n~~~\n",
    ],
    ids=["fill", "loopback", "expect"],
)
def test_conventions_that_hold_pass(tmp_path: Path, text: str) -> None:
    assert check_doc(doc(tmp_path, text), scratch(tmp_path)) == []


def test_a_stated_outcome_that_does_not_happen_fails(tmp_path: Path) -> None:
    guide = doc(tmp_path, "<!-- doc-test: expect 1 0 chunks -->\n~~~bash\necho 3 chunks\n~~~\n")
    (problem,) = check_doc(guide, scratch(tmp_path))
    assert "the doc shows" in problem and "0 chunks" in problem


def test_every_documented_command_is_found() -> None:
    from tests.docs.test_documented_commands import COMMANDS

    assert all(isinstance(c, Command) for c in COMMANDS)
    assert any(c.text.startswith("autan ingest") for c in COMMANDS)
    assert sum(1 for c in COMMANDS if not c.skip) >= 40
