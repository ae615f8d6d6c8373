"""Text as the detector reads it: NFKC, format characters dropped, Cyrillic and Greek look-alikes folded to Latin.

So a look-alike of a token is found too; the offsets map back to the text as given.
"""

from __future__ import annotations

import unicodedata

# Latin look-alikes that NFKC keeps apart (Cyrillic and Greek letters drawn like Latin ones).
CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
        "Ԁ": "D",
        "Ԛ": "Q",
        "Ԝ": "W",
        "Һ": "H",
        "Ӏ": "I",
        "α": "a",
        "ο": "o",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "ι": "i",
        "κ": "k",
        "χ": "x",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
    }
)


def normalise(text: str) -> tuple[str, list[int] | None]:
    """NFKC per character, format characters dropped, look-alikes folded; and for each character of the
    result, the index of the character of `text` it came from (None when the text is unchanged)."""
    if text.isascii():
        return text, None
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            out.append(ch)
            origin.append(i)
            continue
        if unicodedata.category(ch) == "Cf":  # zero-width space/joiners, BOM, bidi controls
            continue
        folded = unicodedata.normalize("NFKC", ch).translate(CONFUSABLES)
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin
