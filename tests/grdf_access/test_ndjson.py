"""NDJSON reading: status lines, pretty-printed objects, broken blocks (ref §1.5)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from grdf_access.ndjson import is_status_line, parse_ndjson

STATUS = (
    '{"code_statut_traitement": "0000000000", '
    '"message_retour_traitement": "L\'opération s\'est déroulée avec succès."}'
)


def test_one_object_a_line_and_the_status_line_filtered() -> None:
    body = '{"id_pce": "1"}\n{"id_pce": "2"}\n' + STATUS + "\n"
    parsed = parse_ndjson(body.encode())
    assert [o["id_pce"] for o in parsed.objects] == ["1", "2"]
    assert parsed.problems == ()
    assert parsed.status is not None
    assert parsed.status["code_statut_traitement"] == "0000000000"


def test_status_line_in_the_middle_is_filtered_too() -> None:
    parsed = parse_ndjson(STATUS + '\n{"a": 1}\n')
    assert parsed.objects == [{"a": 1}]


def test_a_data_object_with_a_status_code_is_kept() -> None:
    obj = {"id_droit_acces": "x", "code_statut_traitement": "0000000002"}
    assert not is_status_line(obj)
    assert parse_ndjson(json.dumps(obj)).objects == [obj]


def test_pretty_printed_multi_line_objects() -> None:
    first = {"pce": {"id_pce": "GI999150"}, "texte": "accolade { dans } une chaîne", "n": [1, 2]}
    second = {"pce": {"id_pce": "GI999054"}, "echappe": 'guillemet \\" et }'}
    body = json.dumps(first, indent=2) + "\n" + json.dumps(second, indent=4) + "\n" + STATUS
    parsed = parse_ndjson(body)
    assert parsed.objects == [first, second]
    assert parsed.problems == ()


def test_a_malformed_line_is_reported_and_the_rest_kept() -> None:
    body = '{"a": 1}\n{"b": {"c": 2}\n{"d": 3}\n' + STATUS
    parsed = parse_ndjson(body)
    assert parsed.objects == [{"a": 1}, {"d": 3}]
    [problem] = parsed.problems
    assert problem.line == 2
    assert problem.reason == "malformed JSON"
    assert '"b"' in problem.excerpt


def test_a_broken_block_at_the_end_is_reported() -> None:
    parsed = parse_ndjson('{"a": 1}\n{"b": \n  [1, 2\n')
    assert parsed.objects == [{"a": 1}]
    assert [p.line for p in parsed.problems] == [2]


def test_garbage_that_closes_its_brackets_is_reported() -> None:
    parsed = parse_ndjson('{"a": 1}\n{"b": nope}\n{"c": 3}')
    assert parsed.objects == [{"a": 1}, {"c": 3}]
    assert len(parsed.problems) == 1


def test_blank_lines_crlf_and_non_objects() -> None:
    parsed = parse_ndjson(b'\r\n{"a": 1}\r\n\r\n42\r\n{"b": 2}\r\n')
    assert parsed.objects == [{"a": 1}, {"b": 2}]
    [problem] = parsed.problems
    assert problem.reason == "not a JSON object"
    assert problem.line == 4


def test_old_liste_acces_wrapper_is_unwrapped() -> None:
    body = json.dumps({"liste_acces": [{"id_droit_acces": "1"}, {"id_droit_acces": "2"}]})
    parsed = parse_ndjson(body)
    assert [o["id_droit_acces"] for o in parsed.objects] == ["1", "2"]


def test_a_json_array_line_is_flattened() -> None:
    assert parse_ndjson('[{"a": 1}, {"a": 2}]').objects == [{"a": 1}, {"a": 2}]


def test_invalid_utf8_does_not_raise() -> None:
    parsed = parse_ndjson(b'{"a": "\xff"}\n')
    assert len(parsed.objects) == 1


def test_empty_answer() -> None:
    parsed = parse_ndjson(b"")
    assert (parsed.objects, parsed.problems, parsed.status) == ([], (), None)


_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_objects = st.dictionaries(st.text(min_size=1, max_size=8), _values, min_size=1, max_size=4).filter(
    lambda o: not o.keys() <= {"code_statut_traitement", "message_retour_traitement", "liste_acces"}
)


@given(objects=st.lists(_objects, max_size=5), indent=st.sampled_from([None, 2, 4]))
def test_any_objects_compact_or_pretty_come_back_unchanged(
    objects: list[dict[str, object]], indent: int | None
) -> None:
    body = "\n".join(json.dumps(o, indent=indent, ensure_ascii=False) for o in objects)
    parsed = parse_ndjson(body + "\n" + STATUS)
    assert parsed.objects == objects
    assert parsed.problems == ()
