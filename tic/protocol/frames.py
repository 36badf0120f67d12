"""From one frame body (the bytes between STX and ETX) to a ``Frame``.

Groups are checked as Enedis-NOI-CPT_02E §1.5.3.2 recommends, from both ends: the checksum is
the byte before CR, the last separator the byte before it; the label runs to the first
separator and the data spans the first to the last separator, so data may hold the separator
and the checksum may itself be a space. Linky standard groups may carry a horodate between the
label and the data (Enedis-NOI-CPT_54E §5.3.6 Table 6).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from itertools import repeat

from .complete import UNRECOGNISED, missing_groups
from .convert import RawGroup, to_group
from .encoding import CR, HT, SP
from .labels import ALIASES, TABLES, LabelSpec, detect_family
from .model import HISTORIQUE, STANDARD, Frame, Group, MeterFamily

MAX_LABEL = 9  # 8 per both specs, but Linky standard sends SMAXSN1-1 … (54E §6.2.2)
_MIN_GROUP = 5  # label, separator, separator, checksum, CR
_HORODATE = 13  # SAAMMJJhhmmss

_PRINTABLE = bytes(range(0x20, 0x7F))
# Bytes a well-formed body may hold, per separator: printable ASCII, LF, CR, the separator.
_BODY_BYTES = {SP: _PRINTABLE + b"\n\r", HT: _PRINTABLE + b"\n\r\t"}
_GROUP_BYTES = {SP: _PRINTABLE + b"\r", HT: _PRINTABLE + b"\r\t"}
_SEP_BYTE = {SP: b" ", HT: b"\t"}
_SEP_NAME = {SP: " ", HT: "\t"}

# Separators each family uses (02E §2.3-2.10, 54E §5.2-5.3).
EXPECTED_SEPARATORS: Mapping[MeterFamily, tuple[int, ...]] = {
    MeterFamily.PMEPMI: (SP,),
    MeterFamily.SAPHIR: (SP, HT),
    MeterFamily.LINKY_HISTORIQUE: (SP,),
    MeterFamily.LINKY_STANDARD: (HT,),
    MeterFamily.CBE: (SP,),
    MeterFamily.UNKNOWN: (SP, HT),
}
# Checksum mode each separator goes with in every family the specs describe.
DEFAULT_MODES: Mapping[int, int] = {SP: 1, HT: 2}


class _Split:
    """Result of checking the groups of one body."""

    __slots__ = ("bad_checksums", "errors", "groups", "known", "pieces", "rejected")

    def __init__(self) -> None:
        self.groups: list[RawGroup] = []
        # Per good group, its (label, Group) when it was known already (``_from_known``).
        self.known: list[tuple[str, Group] | None] = []
        self.pieces: list[bytes] = []  # per good group, its bytes (LF left out)
        self.rejected: list[bytes] = []  # groups failing structure or checksum
        self.errors: list[str] = []
        self.bad_checksums = 0


def _reject(split: _Split, number: int, piece: bytes, reason: str) -> None:
    split.rejected.append(piece)
    shown = piece if len(piece) <= 40 else piece[:37] + b"..."
    split.errors.append(f"group {number} {shown!r}: {reason}")


def _structure_error(piece: bytes, sep: int) -> str:
    """Why ``piece`` (LF stripped) is not a well-formed group; only called on failure."""
    if piece and max(piece) > 0x7F:
        return "parity error (even parity, 02E §1.5.1)"
    if len(piece) < _MIN_GROUP or piece[-1] != CR:
        return "truncated group (no CR or too short)"
    if piece.count(CR) != 1:
        return "stray CR inside the group"
    if piece[-3] != sep:
        return "no separator before the checksum"
    return "control character inside the group"


def _is_clean(piece: bytes, sep: int) -> bool:
    return piece.count(CR) == 1 and not piece.translate(None, _GROUP_BYTES[sep])


def split_groups(
    body: bytes, sep: int, mode: int, table: Mapping[bytes, tuple[str, Group]] | None = None
) -> _Split:
    """Check every group of ``body`` for structure and checksum; extract the good ones.

    A group found in ``table`` (groups already checked, by their bytes) is taken as it is."""
    split = _Split()
    pieces = body.split(b"\n")
    # Latin-1 maps each byte to one character, so text and byte offsets agree (bytes above
    # 0x7F only come from parity errors, and those groups are rejected); slicing text avoids a
    # decode per field. The byte pieces serve the checksum sums.
    texts = body.decode("latin-1").split("\n")
    if pieces[0]:
        _reject(split, 0, pieces[0], "bytes before the first LF")
    # Screen group by group only when the body holds a byte that has no business there, or a
    # CR that does not close a group (every CR must precede an LF or end the body).
    screen = bool(body.translate(None, _BODY_BYTES[sep])) or body.count(CR) != body.count(
        b"\r\n"
    ) + body.endswith(b"\r")
    excluded = CR + (sep if mode == 1 else 0)  # mode 1 leaves the last separator out
    sep_char = _SEP_NAME[sep]
    groups, known, kept = split.groups, split.known, split.pieces
    for number, piece, text in zip(range(1, len(pieces)), pieces[1:], texts[1:]):  # noqa: B905
        if table is not None and (hit := table.get(piece)) is not None and hit is not REJECTED:
            groups.append(_KNOWN_RAW)
            known.append(hit)
            kept.append(piece)
            continue
        end = len(piece) - 3
        if (
            end < _MIN_GROUP - 3
            or piece[-1] != CR
            or piece[-3] != sep
            or (screen and not _is_clean(piece, sep))
        ):
            _reject(split, number, piece, _structure_error(piece, sep))
            continue
        expected = piece[-2]
        if ((sum(piece) - excluded - expected) & 0x3F) + 0x20 != expected:
            split.bad_checksums += 1
            _reject(split, number, piece, f"checksum mismatch (mode {mode})")
            continue
        cut = text.find(sep_char)
        if cut == 0 or cut > MAX_LABEL or cut >= end:
            _reject(split, number, piece, _label_problem(cut, end))
            continue
        start = cut + 1
        horodate = None
        if sep == HT and end - start > _HORODATE and text[start + _HORODATE] == "\t":
            horodate = text[start : start + _HORODATE]
            start += _HORODATE + 1
        elif start == end:
            _reject(split, number, piece, "empty data")
            continue
        groups.append((text[:cut], horodate, text[start:end]))
        known.append(None)
        kept.append(piece)
    return split


_KNOWN_RAW: RawGroup = ("", None, "")  # stands for a group taken from the table


def _label_problem(cut: int, end: int) -> str:
    if cut == 0:
        return "empty label"
    if cut >= end:
        return "no data field"
    return f"label longer than {MAX_LABEL} characters"


def frame_separator(body: bytes) -> int:
    """SP or HT: data never holds HT when SP separates (02E §1.5.2), so any HT means HT."""
    return HT if b"\t" in body else SP


def _checked_groups(
    body: bytes,
    sep: int,
    modes: MutableMapping[int, int],
    adaptive: bool,
    table: Mapping[bytes, tuple[str, Group]] | None = None,
) -> tuple[_Split, int]:
    """Split with the checksum mode in force for ``sep``; switch modes when the other fits.

    02E §1.5.2 lets post-2013 designs pick either mode. The two modes differ by the separator's
    value (0x20 or 0x09) modulo 64, so no group passes both: a frame that fails entirely in one
    mode and passes entirely in the other (three groups or more) settles the question.
    """
    mode = modes[sep]
    split = split_groups(body, sep, mode, table)
    if adaptive and not split.groups and split.bad_checksums >= 3:
        other = 3 - mode
        retry = split_groups(body, sep, other)
        if retry.bad_checksums == 0 and len(retry.groups) >= 3:
            modes[sep] = other
            return retry, other
    return split, mode


def build_frame(
    body: bytes,
    family: MeterFamily | None,
    guess: MeterFamily,
    modes: MutableMapping[int, int],
    adaptive: bool,
    known: KnownGroups | None = None,
) -> Frame:
    """Check, split and type one complete frame body.

    ``family`` forces the label table; otherwise the family is detected from the labels. Typing
    starts with ``guess`` (the previous frame's family) and is redone only if detection
    disagrees, so a steady stream types each group once. With ``known`` (a stream decoder's
    memory of groups already checked), a frame made of known groups is built from them.
    """
    sep = frame_separator(body)
    if known is not None:
        frame = _from_known(body, sep, family, family or guess, modes[sep], known)
        if frame is not None:
            return frame
    typed_as = family or guess
    table = None if known is None else known.get((typed_as, sep, modes[sep]))
    split, mode = _checked_groups(body, sep, modes, adaptive, table)
    learn = None if known is None else known.setdefault((typed_as, sep, mode), {})
    groups, problems = _typed_groups(split.groups, typed_as, split.known, split.pieces, learn)
    if family is None:
        adco = groups.get("ADCO")
        family = detect_family(groups.keys(), None if adco is None else adco.raw)
        if family is not typed_as:
            if any(split.known):  # typed with another table: check them all again
                split = split_groups(body, sep, mode)
            learn = None if known is None else known.setdefault((family, sep, mode), {})
            groups, problems = _typed_groups(split.groups, family, None, split.pieces, learn)
    errors = split.errors
    bad = len(errors) + len(problems)
    errors.extend(problems)
    if sep not in EXPECTED_SEPARATORS[family]:
        errors.append(f"separator {_SEP_NAME[sep]!r} is not used by {family.value} meters")
    if not body:
        errors.append("empty frame")
    missing: tuple[str, ...] = ()
    if not errors:
        if family is MeterFamily.UNKNOWN:
            errors.append(UNRECOGNISED)
        elif missing := missing_groups(family, groups):
            errors.append(f"incomplete frame: missing {', '.join(missing)} (02E §1.5.3.1 D)")
    return Frame(
        meter=family,
        mode=STANDARD if sep == HT else HISTORIQUE,
        valid=not errors,
        interrupted=False,
        groups=groups,
        errors=errors,
        bad_groups=bad,
        separator=_SEP_NAME[sep],
        checksum_mode=mode,
        raw=body,
        missing=missing,
    )


# The fast path. A group's verdict (structure, checksum, label, length, format) and its typed
# value depend only on its bytes, the label table (family), the separator and the checksum
# mode: nothing else of the frame or the stream. So a group seen before need not be checked or
# typed again; a steady meter repeats most groups from frame to frame (addresses, options,
# subscribed power, slow indexes), and a frame made only of known groups costs a split and one
# dictionary look-up per group, all in C (``map``). Frame-level checks (duplicates, family,
# separator, completeness) are made on every frame. Only good groups are remembered, so any
# damage takes the full path, which words the errors.
KnownGroups = dict[tuple[MeterFamily, int, int], dict[bytes, tuple[str, Group]]]
# A group known to fail structure or checksum (the full path words why, with its number).
REJECTED: tuple[str, Group] = ("", Group("", "", "", None, error="rejected"))
KNOWN_LIMIT = 4096  # distinct groups kept per table; a meter whose values all change refills it


def _from_known(
    body: bytes,
    sep: int,
    family: MeterFamily | None,
    typed_as: MeterFamily,
    mode: int,
    known: KnownGroups,
) -> Frame | None:
    """The frame ``body`` makes of good groups only, or ``None`` for the full path."""
    if typed_as is MeterFamily.UNKNOWN or not body:
        return None
    table = known.get((typed_as, sep, mode))
    if table is None:
        return None
    pieces = body.split(b"\n")
    if pieces[0]:
        return None
    del pieces[0]
    hits = list(map(table.get, pieces))
    if REJECTED in hits:
        return None
    if None in hits:
        missed = [piece for piece, hit in zip(pieces, hits) if hit is None]  # noqa: B905
        if not _learn(missed, sep, mode, typed_as, known):
            return None
        table = known[(typed_as, sep, mode)]
        hits = list(map(table.get, pieces))
        if None in hits:  # the table was just emptied to make room
            return None
    groups: dict[str, Group] = dict(hits)  # type: ignore[arg-type]
    if len(groups) != len(hits):
        return None  # a label twice
    if family is None:
        adco = groups.get("ADCO")
        family = detect_family(groups.keys(), None if adco is None else adco.raw)
        if family is not typed_as:
            return None
    if sep not in EXPECTED_SEPARATORS[family] or missing_groups(family, groups):
        return None
    return Frame(
        meter=family,
        mode=STANDARD if sep == HT else HISTORIQUE,
        valid=True,
        interrupted=False,
        groups=groups,
        errors=[],
        bad_groups=0,
        separator=_SEP_NAME[sep],
        checksum_mode=mode,
        raw=body,
    )


def _learn(
    pieces: list[bytes], sep: int, mode: int, family: MeterFamily, known: KnownGroups
) -> bool:
    """Check and type ``pieces`` (groups without their LF), remembering the good ones; whether
    all were good."""
    split = split_groups(b"\n" + b"\n".join(pieces), sep, mode)
    learn = known.setdefault((family, sep, mode), {})
    _groups, problems = _typed_groups(split.groups, family, None, split.pieces, learn)
    for piece in split.rejected:
        learn[piece] = REJECTED  # its frame takes the full path at once next time
    return not split.errors and not problems


def _typed_groups(
    raws: list[RawGroup],
    family: MeterFamily,
    known: list[tuple[str, Group] | None] | None = None,
    pieces: list[bytes] | None = None,
    learn: dict[bytes, tuple[str, Group]] | None = None,
) -> tuple[dict[str, Group], list[str]]:
    """Groups by canonical label, and the problems found (each one a bad group).

    The family's table is « la liste complète des groupes d'information émis par l'appareil »
    (02E §2.3.3, §2.9.2.1, §2.10.2; 54E §6.2.2 likewise): a label outside it is kept, flagged,
    and makes the frame invalid, for such a label is a damaged one (two bits of one character
    flipped pass both parity and checksum) as often as a new one.
    """
    table: Mapping[str, LabelSpec] = TABLES[family]
    known_family = family is not MeterFamily.UNKNOWN
    aliases = ALIASES if family is MeterFamily.PMEPMI or not known_family else None
    groups: dict[str, Group] = {}
    problems: list[str] = []
    if learn is not None:
        if not known_family:
            learn = None  # nothing is known of a frame whose family is not
        elif len(learn) + len(raws) > KNOWN_LIMIT:
            learn.clear()
    for index, (raw, hit) in enumerate(zip(raws, known or repeat(None, len(raws)))):  # noqa: B905
        if hit is not None:
            label, group = hit
            if label in groups:
                problems.append(f"label {label!r} appears twice")
            else:
                groups[label] = group
            continue
        raw_label, horodate, data = raw
        label = aliases.get(raw_label, raw_label) if aliases else raw_label
        if label in groups:
            problems.append(f"label {label!r} appears twice")
            continue
        spec = table.get(label)
        if spec is not None:
            sizes = spec.sizes
            if sizes is not None and len(data) not in sizes:
                groups[label] = Group(label, raw_label, data, None, error="wrong data length")
                problems.append(f"{label}: {len(data)} characters, the table gives {min(sizes)}")
                continue
            # Plain labels are the bulk of every frame: type them inline, leave the rest to
            # to_group, which also words the errors.
            if horodate is None and not spec.horodated:
                try:
                    value, unit, flags = spec.convert(data)
                except ValueError:
                    pass
                else:
                    group = groups[label] = Group(label, raw_label, data, value, unit, None, flags)
                    if learn is not None and pieces is not None:
                        learn[pieces[index]] = (label, group)
                    continue
        elif known_family:
            problems.append(f"label {label!r} is not in the {family.value} table")
        group = to_group(label, raw, spec)
        if group.error is not None:
            problems.append(f"{label}: {group.error}")
        elif learn is not None and pieces is not None and spec is not None:
            learn[pieces[index]] = (label, group)
        groups[label] = group
    return groups, problems


def interrupted_frame(body: bytes, family: MeterFamily | None, reason: str) -> Frame:
    """A frame cut short: dropped unread, as 02E §1.5.2 has emission restart at STX."""
    sep = frame_separator(body)
    return Frame(
        meter=family or MeterFamily.UNKNOWN,
        mode=STANDARD if sep == HT else HISTORIQUE,
        valid=False,
        interrupted=True,
        groups={},
        errors=[reason],
        separator=_SEP_NAME[sep],
        raw=body,
    )
