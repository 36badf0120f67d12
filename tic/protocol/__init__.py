"""Pure decoder for Enedis TIC (« Télé-Information Client ») frames.

Standard library only. Sources: Enedis-NOI-CPT_02E v6 (blue meters, CJE, PME-PMI, SAPHIR;
framing §1.5) and Enedis-NOI-CPT_54E v3 (Linky historique and standard modes).

Public API
----------
``TicStreamDecoder(meter: MeterFamily | None = None, *, parity: bool = False)``
    ``.feed(chunk: bytes | bytearray | memoryview) -> list[Frame]`` takes chunks cut anywhere
    and returns the frames they complete; ``.flush() -> Frame | None`` reports an unfinished
    frame at end of input; ``.counters`` (``Counters``: frames, valid, invalid, interrupted,
    bad_groups, noise_bytes, parity_errors); ``.pending_bytes``. One decoder per serial line:
    it remembers the checksum mode per separator and the last meter family.
``decode_bytes(data: bytes, meter: MeterFamily | None = None, *, parity=False) -> list[Frame]``
    One-shot decoding of a buffer (a trailing unfinished frame is left out).
``Frame``
    ``meter`` (``MeterFamily``), ``mode`` ("historique" for SP-separated frames, "standard"
    for HT), ``valid``, ``interrupted``, ``groups`` (canonical label → ``Group``), ``errors``,
    ``bad_groups``, ``separator``, ``checksum_mode``, ``raw``; ``frame.value(label)``.
``Group``
    ``label`` (canonical), ``raw_label``, ``raw`` (data as received), ``value`` (typed, base
    units), ``unit``, ``timestamp`` (Linky horodate), ``flags`` (``ambiguous``,
    ``degraded_clock``, ``season_mismatch``, ``unknown_label``, truncation markers), ``error``.
``MeterFamily``
    PMEPMI, SAPHIR, LINKY_HISTORIQUE, LINKY_STANDARD, CBE, UNKNOWN.
``encode_group(label, data, *, mode=1, separator=" ", horodate=None) -> bytes``,
``encode_frame(groups, mode=1, separator=" ") -> bytes``, ``checksum(zone) -> int``
    Build byte-exact groups/frames in checksum mode 1 or 2 with SP or HT; ``groups`` are
    ``(label, data)`` or ``(label, horodate, data)`` tuples. ``with_parity(data)`` sets each
    byte's even-parity bit in bit 7, as a 7E1 line read 8N1 delivers it.
``StatusRegister``, ``ProfileSlot``, ``DynamicTariffEvent``
    Typed values of ``STGE``, ``PJOURF+1``/``PPOINTE`` entries, ``TDYN…`` groups.

Behaviour
---------
* Bytes are cut to 7 bits (or parity-checked, below); EOT, a new STX or 8 KiB without ETX end a
  frame as interrupted (dropped unread); bytes outside frames are counted as noise.
* Checksum mode follows the separator (SP: mode 1, HT: mode 2) as in every meter the specs
  describe; in auto mode a frame of 3+ groups that fails entirely in that mode and passes
  entirely in the other switches the decoder (02E §1.5.2 allows either after 2013).
* A group is checked from both ends (02E §1.5.3.2); a group failing structure, checksum or
  the format of its label is counted as bad; a frame is valid only if all its groups are.
* Values are typed per meter family (detected from the labels unless given): glued units are
  converted to base units (Wh, varh, VAh, W, var, VA, V, A), PME-PMI/SAPHIR dates become aware
  Europe/Paris local times (``ambiguous`` on the repeated October hour, error in the March gap),
  Linky horodates use their season letter. Datetimes carry the Paris offset in force as a fixed
  UTC+01:00/UTC+02:00 tzinfo, so comparisons across the October overlap stay right.
* Labels outside the family's table are kept as text and flagged ``unknown_label``, and make
  the frame invalid (the tables are the complete lists; such a label is a damaged one as often
  as not). Data lengths the tables fix are checked (``labels.DATA_LENGTHS``).
  The checksum cannot see a flip of bit 6 (±64); without parity, strict formats catch it in
  typed fields, not in free text (``MSG1``, ``NGTF``, ``LTARF``, ``MESSAGE``).
* The stream decoder also expects every group the previous frame of the same kind carried,
  event groups aside (``complete.CONDITIONAL``): a frame that lost one is invalid.
* Labels are spelled as the spec prints them (``DébP``, ``EaP-1_s``, ``EaP_s2``…, 02E
  Tableau 10); what real meters send instead (``DebP``, ``EAP-1_s``, ``EAP_s2``…) maps onto
  them (``labels.SPEC_SPELLINGS``), ``raw_label`` keeps what was received.
* A frame lacking a group its family always sends, or whose family its labels do not tell,
  is invalid (02E §1.5.3.1 step D; ``complete.py``); ``Frame.missing`` names the groups.
* ``parity=True``: bytes carry the even-parity bit as bit 7 (a 7E1 line read 8N1); a byte
  that fails the check invalidates its group, and so its frame (02E §1.5.3.1 step A).
"""

from .encoding import checksum, encode_frame, encode_group, with_parity
from .linky import ProfileSlot, StatusRegister
from .model import (
    AMBIGUOUS,
    DEGRADED_CLOCK,
    SEASON_MISMATCH,
    UNKNOWN_LABEL,
    Counters,
    DynamicTariffEvent,
    Frame,
    Group,
    MeterFamily,
)
from .stream import TicStreamDecoder, decode_bytes

__all__ = [
    "AMBIGUOUS",
    "DEGRADED_CLOCK",
    "SEASON_MISMATCH",
    "UNKNOWN_LABEL",
    "Counters",
    "DynamicTariffEvent",
    "Frame",
    "Group",
    "MeterFamily",
    "ProfileSlot",
    "StatusRegister",
    "TicStreamDecoder",
    "checksum",
    "decode_bytes",
    "encode_frame",
    "encode_group",
    "with_parity",
]
