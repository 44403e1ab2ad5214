"""Fuzzy matching for the node palette: every typed character must appear in order; tighter matches rank higher."""

from __future__ import annotations


def fuzzy_score(query: str, text: str) -> float | None:
    """A score for `text` against `query` (higher is better), or None when it does not match.

    Words that start with the query beat substrings, substrings beat scattered subsequences, and among
    subsequences the ones with fewer gaps win.
    """
    q = query.strip().lower()
    t = text.lower()
    if not q:
        return 0.0
    if t.startswith(q):
        return 1000.0 - len(t) * 0.01
    at = t.find(q)
    if at >= 0:
        word_start = at == 0 or not t[at - 1].isalnum()
        return (800.0 if word_start else 600.0) - at * 0.1
    # subsequence: penalise gaps between matched characters
    pos, gaps, last = 0, 0, -1
    for ch in q:
        if ch == " ":
            continue
        found = t.find(ch, pos)
        if found < 0:
            return None
        if last >= 0 and found != last + 1:
            gaps += 1
        last, pos = found, found + 1
    return 300.0 - gaps * 10.0 - last * 0.1


def best_score(query: str, fields: list[tuple[str, float]]) -> float | None:
    """The best weighted score over several fields (name, category, description), or None if none match."""
    scores = [s * weight for text, weight in fields if (s := fuzzy_score(query, text)) is not None]
    return max(scores) if scores else None
