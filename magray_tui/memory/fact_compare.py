"""Do two near-neighbour memories say the same thing, or does the newer change a value of the
older? Pure and numpy-free: token- and number-level comparison, no model, no I/O.

`compare(older, newer, cosine)` answers "duplicate" (merge as before), "update" (the newer
supersedes the older) or "unrelated" (keep both as they are). The rule and its measured
precision on a labelled set of real sentences are in docs/promotion.md ("Duplicates and
updates"); benchmarks/bench_fact_compare.py measures it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["duplicate", "update", "unrelated"]

DUPLICATE_MIN = 0.95  # promotion.merge_similarity: what "the embeddings agree" means
UPDATE_MIN = 0.80  # promotion.supersede_similarity: same subject at all
MAX_CHARS = 20_000  # a fact is a sentence or a few; a long ingested chunk is compared by its head


def _words(text: str) -> list[str]:
    return text.split()


_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
        )
    )
}
_ORDINALS = {
    w: f"#{i}"
    for i, w in enumerate(
        _words("zeroth first second third fourth fifth sixth seventh eighth ninth tenth")
    )
}
_MONTHS = {
    **{m: m[:3] for m in _words("january february march april june july august september")},
    **{m: m[:3] for m in _words("october november december")},
    **{m: m for m in _words("jan feb mar apr jun jul aug sep sept oct nov dec")},
    "may": "may",
}
_DAYS = {d: d[:3] for d in _words("monday tuesday wednesday thursday friday saturday sunday")}
_UNITS = {
    # one name per unit, so "5 hours" and "5 h" agree and "5 hours" and "5 days" do not
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), "ms"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days", "daily", "nightly"), "d"),
    **dict.fromkeys(("week", "weeks", "weekly"), "wk"),
    **dict.fromkeys(("month", "months", "monthly"), "mo"),
    **dict.fromkeys(("year", "years", "yearly", "annually"), "yr"),
    **{u: u for u in ("kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "%", "percent")},
    **{u: u for u in ("km", "mi", "miles", "kg", "lbs", "cm", "mm", "usd", "eur", "$", "€")},
    **{u: u for u in ("tokens", "dimensions", "characters", "chars", "bytes", "cores")},
}
# States that are values even though they are ordinary words ("the shell tool is off").
_STATES = {
    **dict.fromkeys(("on", "enabled", "enable", "active", "open"), "+state"),
    **dict.fromkeys(("off", "disabled", "disable", "inactive", "closed"), "-state"),
}
_NEGATIONS = frozenset(_words("not no never none nobody nothing neither nor without cannot"))
# Words a restatement adds without changing the subject ("now", "instead", "moved to").
_CHANGE_WORDS = frozenset(
    _words(
        "now currently new instead anymore since today updated changed change moved move "
        "still actually recently just"
    )
)
_STOP = frozenset(
    _words(
        """a an and are as at be but by for if in into is it of or such that the their then there
    these they this to was with what when where which who whom whose why how did do does
    doing done i me my mine we us our you your he him his she her hers its them were been
    being have has had having would should could am s t will can also so very really all
    any some our ours from up out about over after before per every each via using use uses
    used i'm i've i'll it's that's there's we're we've they're you're he's she's let's"""
    )
)

_TOKEN = re.compile(
    r"[$€]?\d[\d,]*(?:[.:/-]\d+)*(?:[a-z%]+\b)?"  # 5,000 3.11 10:30 2024-05-12 12ms 80%
    r"|/[\w./-]+"  # a path
    r"|[\w][\w'.+-]*[\w]|[\w%$€]",  # words, identifiers (all-MiniLM-L6-v2, v2.1)
    re.UNICODE,
)
_SPEAKER = re.compile(r"^\s*([A-Z][\w.-]{0,30}):\s")


@dataclass(frozen=True)
class Facts:
    """What a sentence asserts, as comparable sets (see `facts`)."""

    values: frozenset[str]  # numbers, dates, units, states, names, identifiers
    content: frozenset[str]  # other meaningful words, crudely stemmed
    negated: bool  # an odd number of negations
    initial: frozenset[str]  # capitalised words that start a sentence: names or not
    first: frozenset[str]  # the first two words (after a "Speaker:" prefix, which counts)

    def resolved(self, other: Facts) -> Facts:
        """A sentence-initial capital is a name when the other text has it as a name too,
        starts with it as well ("Jon works ..." / "Jon no longer works ..."), or lacks the
        word altogether ("Maria's dog ..." / "John's dog ..."); else an ordinary word."""
        known = other.values | other.initial | other.content | {_stem(w) for w in other.initial}
        names = {
            w
            for w in self.initial
            if w in other.values or w in other.initial or _stem(w) not in known
        }
        plain = {_stem(w) for w in self.initial - names}
        return Facts(
            self.values | names, self.content | plain, self.negated, frozenset(), self.first
        )

    def subject(self) -> frozenset[str]:
        """Names in subject position: the speaker or a name among the first two words."""
        return self.values & self.first


def _stem(word: str) -> str:
    for suffix in ("'s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _number(token: str) -> str:
    """A number in one spelling: '5,000' -> '5000', '$7,500' -> '$7500', '3.10' stays."""
    return (
        token.replace(",", "") if re.fullmatch(r"[$€]?\d{1,3}(,\d{3})+(\.\d+)?", token) else token
    )


def facts(text: str) -> Facts:
    """Split a sentence into values, content words and negation (the rule in
    docs/promotion.md)."""
    text = text[:MAX_CHARS].replace("’", "'")
    values: set[str] = set()
    content: set[str] = set()
    initial: set[str] = set()
    first: set[str] = set()
    negations = 0
    speaker = _SPEAKER.match(text)
    if speaker:
        name = speaker.group(1).lower()
        values.add(name)
        first.add(name)
        text = text[speaker.end() :]
    sentence_start = True
    position = 0
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        low = raw.lower()
        starts = sentence_start
        after = text[match.end() : match.end() + 12]
        sentence_start = after.startswith((". ", "! ", "? "))
        if low.endswith("n't"):
            negations += 1
            low = low[:-3] or low
        if low in _NEGATIONS:
            negations += 1
            continue
        position += 1
        if position <= 2:
            first.add(low.removesuffix("'s"))
        if low[0].isdigit() or low[0] in "$€/":
            number = re.fullmatch(r"([$€]?\d[\d,.:/-]*)([a-z%]+)?", low)
            if number:
                values.add(_number(number.group(1)))
                if number.group(2):
                    values.add(_UNITS.get(number.group(2), number.group(2)))
            else:
                values.add(low)
            continue
        if low in _NUMBER_WORDS:
            values.add(_NUMBER_WORDS[low])
        elif low in _ORDINALS:
            values.add(_ORDINALS[low])
        elif low in _MONTHS and (raw[0].isupper() or low != "may"):
            values.add(_MONTHS[low])
        elif low in _DAYS:
            values.add(_DAYS[low])
        elif low in _UNITS and len(low) > 1:
            values.add(_UNITS[low])
        elif low in _STATES and (low not in ("on", "open") or _ends_clause(after)):
            values.add(_STATES[low])
        elif _is_name(raw, starts):
            values.add(low.removesuffix("'s"))
        elif any(c.isdigit() for c in low):
            values.add(low)  # an identifier with digits: all-minilm-l6-v2, py311, 4b
        elif low in _STOP or low in _CHANGE_WORDS or len(low) < 2:
            continue
        elif starts and raw[0].isupper():
            initial.add(low.removesuffix("'s"))
        else:
            content.add(_stem(low))
    return Facts(
        frozenset(values),
        frozenset(content),
        negations % 2 == 1,
        frozenset(initial),
        frozenset(first),
    )


def _ends_clause(after: str) -> bool:
    """'on' and 'open' are states only at the end of a clause ("is on.", "is on by default"),
    not as a preposition ("listens on port")."""
    rest = after.lstrip()
    return not rest or rest[0] in ".,;:!?)" or rest.startswith(("by default", "by "))


def _is_name(raw: str, sentence_start: bool) -> bool:
    """A proper noun, an acronym or a product name: capitalised away from a sentence's
    start, all capitals, or capitals inside the word (DuckDB, iPhone)."""
    core = raw.removesuffix("'s")
    if len(core) < 2 or not core[0].isalpha():
        return False
    if any(c.isupper() for c in core[1:]):
        return True
    return core[0].isupper() and not sentence_start


def compare(
    older: str,
    newer: str,
    cosine: float,
    *,
    duplicate_min: float = DUPLICATE_MIN,
    update_min: float = UPDATE_MIN,
) -> Verdict:
    """duplicate, update or unrelated (see the module's docstring)."""
    if cosine < min(update_min, duplicate_min):
        return "unrelated"
    a0, b0 = facts(older), facts(newer)
    a, b = a0.resolved(b0), b0.resolved(a0)
    if a.values == b.values and a.negated == b.negated:
        return "duplicate" if cosine >= duplicate_min else "unrelated"
    if cosine < update_min:
        return "unrelated"
    if a.subject() and b.subject() and not (a.subject() & b.subject()):
        return "unrelated"  # the same statement about someone else
    replaced = bool(a.values - b.values) and bool(b.values - a.values)
    if not (replaced or a.negated != b.negated):
        return "unrelated"  # the newer only adds detail (or drops it): both stay
    changed_words = len(a.content ^ b.content)
    if changed_words <= 1 or (changed_words <= 2 and cosine >= duplicate_min):
        return "update"
    return "unrelated"
