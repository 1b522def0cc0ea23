"""The keyword index matches the last word as a prefix only when asked (search-as-you-type);
the prefix is matched against the words as written, not their stems."""

from __future__ import annotations


def test_prefix_of_the_last_word_only_when_asked(memory) -> None:
    rid = memory.add("The staging database listens on port 5433.", layer="insights")
    other = memory.add("Production uses a managed Postgres cluster.", layer="insights")

    def ids(query: str, prefix: bool) -> list[str]:
        hits = memory.search(query, k=5, mode="keyword", count_access=False, prefix=prefix)
        return [h.record.id for h in hits]

    assert ids("stag", prefix=False) == []
    assert ids("stag", prefix=True) == [rid]
    # "stagi" starts the word "staging" though not its stem ("stage").
    assert ids("stagi", prefix=True) == [rid]
    assert ids("database stagi", prefix=True) == [rid]
    assert ids("managed postg", prefix=True) == [other]
    assert ids("s", prefix=True) == []  # one letter is not a prefix worth matching
    # In hybrid mode the keyword evidence of a prefix shows in the parts.
    hit = memory.search("stagi", k=1, count_access=False, prefix=True)[0]
    assert hit.record.id == rid and hit.parts["keyword_rank"] == 1
