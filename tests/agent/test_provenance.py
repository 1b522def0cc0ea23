"""Trust in the chat, whole turns over real HTTP (the local test server scripts the model)
with the real memory service: the model's invented answer does not ground the next turn
and is not promoted by cycles until the user gives it a thumbs-up; "remember that X" is
stored as the user's fact by a rule, without a model call, and the reply says so."""

from __future__ import annotations

import pytest

from magray_tui.agent import model as m
from magray_tui.agent.agent import Agent
from magray_tui.agent.intent import explicit_fact
from magray_tui.memory import Layer
from tests.conftest import FACTS, use_test_server

INVENTED = "The staging database is restarted from the phpMyAdmin console."
QUESTION = "How do I restart the staging database?"


@pytest.fixture
def chat_settings(settings, llm_server, tmp_path, monkeypatch):
    settings = use_test_server(settings, llm_server, tmp_path / "workspace", monkeypatch)
    # Cycles that promote whatever has been read at all, at once: only trust holds back.
    settings.promotion.to_insights = 0.0
    settings.promotion.min_hours_interact = 0.0
    return settings


@pytest.fixture
def agent(chat_settings, services):
    services.memory.add_many([{"text": t, "layer": "insights"} for t in FACTS])
    return services.new_agent()


def turn(agent: Agent, sid: str, text: str) -> list:
    return list(agent.run_turn(sid, text))


def grounded(events: list) -> list[str]:
    return [r.text for r in next(e for e in events if isinstance(e, m.MemoriesUsed)).memories]


def test_an_invented_answer_grounds_nothing_and_is_not_promoted_until_thumbs_up(
    agent, services, llm_server
):
    memory = services.memory
    first = agent.sessions.create("earlier")
    llm_server.text(INVENTED)
    done = turn(agent, first.id, QUESTION)[-1]
    reply = memory.get(agent.sessions.messages(first.id)[-1].memory_id, count_access=False)
    assert (reply.text, reply.author, reply.confirmed) == (INVENTED, "assistant", False)
    found = turn(agent, first.id, f"/search {QUESTION}")
    listing = next(e.text for e in found if isinstance(e, m.Notice))
    assert f"`{reply.id}`" in listing and "(assistant, unconfirmed)" in listing  # found, named

    llm_server.text("I do not know.")
    events = turn(agent, agent.sessions.create("later").id, QUESTION)
    assert INVENTED not in grounded(events)
    assert QUESTION in grounded(events)  # the user's own words may ground
    assert "phpMyAdmin" not in llm_server.chat_requests[-1].body["messages"][0]["content"]

    for _ in range(2):  # cycles promote everything read (threshold 0)... but the guess
        report = memory.run_cycle()
        assert reply.id not in {a.record_id for a in report.actions if a.action == "promote"}
    assert memory.get(reply.id, count_access=False).layer is Layer.INTERACT
    promoted = memory.list(layers=["insights"], session=first.id)
    assert QUESTION in [r.text for r in promoted]  # the user's message did move up

    kept = agent.confirm_reply(first.id, done.message.id)  # the thumbs-up
    assert kept.id == reply.id and kept.confirmed
    llm_server.text("From phpMyAdmin.")
    events = turn(agent, agent.sessions.create("after").id, QUESTION)
    assert INVENTED in grounded(events)
    report = memory.run_cycle()
    assert reply.id in {a.record_id for a in report.actions if a.action == "promote"}


def test_a_reply_without_a_memory_cannot_be_kept(agent, llm_server):
    from magray_tui.agent.model import ChatError

    s = agent.sessions.create("rule")
    done = turn(agent, s.id, "Remember that the coffee machine is on floor 3.")[-1]
    with pytest.raises(ChatError, match="not stored in memory"):
        agent.confirm_reply(s.id, done.message.id)


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("Remember that the staging database listens on port 5434.", "The staging database"),
        ("note that Jon's marathon is on 12 October", "Jon's marathon is on 12 October"),
        ("remember: deploys freeze on Fridays", "Deploys freeze on Fridays"),
        ("Please remember that I am allergic to peanuts.", "I am allergic to peanuts."),
    ],
)
def test_remember_that_is_stored_by_a_rule_without_the_model(agent, llm_server, text, fact):
    before = len(llm_server.chat_requests)
    s = agent.sessions.create("facts")
    events = turn(agent, s.id, text)
    assert len(llm_server.chat_requests) == before  # no model call at all
    reply = "".join(e.text for e in events if isinstance(e, m.ReplyDelta))
    done = events[-1]
    assert isinstance(done, m.TurnDone) and done.status == "complete"
    facts = agent.memory().list(layers=["insights"], kinds=["fact"], session=s.id)
    assert len(facts) == 1 and facts[0].text.startswith(fact)
    assert facts[0].author == "user" and not facts[0].needs_confirmation
    assert facts[0].id in reply and "Insights" in reply and fact in reply
    stored = agent.sessions.messages(s.id)
    assert [x.role for x in stored] == ["user", "assistant"]
    assert stored[0].memory_id == facts[0].id  # the history's message points at the fact
    assert agent.memory().list(layers=["interact"], session=s.id) == []


def test_the_remembered_fact_grounds_a_later_turn(agent, llm_server):
    turn(agent, agent.sessions.create("a").id, "Remember that the VPN gateway is vpn2.")
    llm_server.text("vpn2.")
    events = turn(agent, agent.sessions.create("b").id, "Which VPN gateway do we use?")
    assert "The VPN gateway is vpn2." in grounded(events)


@pytest.mark.parametrize(
    "text",
    [
        "Remember that trip to Oslo?",
        "Do you remember that I asked about tea?",
        "remembering things is hard",
        "Notes that matter: none",
        "remember",
    ],
)
def test_questions_and_other_phrasings_go_to_the_model(text):
    assert explicit_fact(text) is None


def test_a_memory_the_model_stores_counts_only_if_the_user_approved_its_text(tmp_path, memory):
    from tests.tools.conftest import Asker, make_registry

    args = {"text": "The user deploys on Fridays only."}
    asked = make_registry(tmp_path, memory=lambda: memory)  # add_memory: ask (default)
    assert asked.run("add_memory", args, Asker(answer=True)).ok
    allowed = make_registry(tmp_path, memory=lambda: memory, policy={"add_memory": "allow"})
    never_asked = Asker()
    assert allowed.run("add_memory", {"text": "The user likes tabs."}, never_asked).ok
    assert never_asked.seen == []
    by_text = {r.text: r for r in memory.list()}
    approved, unasked = by_text[args["text"]], by_text["The user likes tabs."]
    assert (approved.author, approved.confirmed) == ("tool", True)
    assert approved.metadata["confirmed"]["how"] == "approved"
    assert (unasked.author, unasked.needs_confirmation) == ("tool", True)
