"""IAM-OnDB's alphabet, known before any data is read, and the label mapping built on it.

:data:`CHARACTERS` are the 81 characters (space included) of the CSR transcriptions of the
11,952 lines that pair cleanly in the data mirror's copy of the official archives
(``shared/mirror/iam-ondb``: ``lineStrokes-all.tar.gz`` + ``ascii-all.tar.gz``, every text group but
``a01``), after :func:`textrec_lines.transcription.normalize_transcription`. Computed once, with
``textrec_iam_ondb.strokes.read_lines``, and fixed here so that ``shapes`` is known before
``prepare()``. Lines of other copies holding a character outside it are skipped at ``prepare()``
with a counted warning.
"""

from __future__ import annotations

from textrec_core.mapping import BLANK, END, PAD, START, CharacterMapping

CHARACTERS = " !\"#&'()*+,-./0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz"

#: The characters (the space among them), then ``<pad>``, ``<blank>``, ``<start>``, ``<end>``, as
#: the core's ``LINE_MAPPING`` orders its special tokens.
IAM_ONDB_MAPPING = CharacterMapping((*CHARACTERS, PAD, BLANK, START, END))
