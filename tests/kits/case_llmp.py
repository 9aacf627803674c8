"""The registry walk's case for `llmp` (the stepwise translation, its default): blocksworld from the shared data; the
sentences worded as the example's take its facts renamed (analogy), the one worded otherwise is the scripted
model's, which misreads it and is regrounded in the object the sentence names; planned and validated."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend

TEXT = (
    "You have 3 blocks. \nb1 is on the table. \nb2 is on the table. \nb3 sits on top of b1. \nb2 is clear. \n"
    "b3 is clear. \nYour arm is empty. \nYour goal is to move the blocks. \nb1 should be on top of b2. \n"
)
RIGHT = {
    "b1 is on the table.": "(on-table b1)",
    "b2 is on the table.": "(on-table b2)",
    "b3 sits on top of b1.": "(on b3 b1)",
    "b2 is clear.": "(clear b2)",
    "b3 is clear.": "(clear b3)",
    "Your arm is empty.": "(arm-empty)",
    "b1 should be on top of b2.": "(on b1 b2)",
}


def make_input() -> str:
    return TEXT


def make_backend() -> ScriptedBackend:
    def reply(prompt, params):
        if prompt[0].content.startswith("You list the objects"):
            return "b1 b2 b3"
        said = [m.content for m in prompt if m.role == "user" and "Sentence: " in m.content][-1]
        sentence = said.rsplit("Sentence: ", 1)[1]
        if sentence == "b3 sits on top of b1.":
            return "(on b3 b2)"  # misread: the sentence names b1
        return RIGHT.get(sentence, "none")

    return ScriptedBackend(reply)


def run_kwargs() -> dict:
    return {"domain": "blocksworld"}


def check(result) -> None:
    assert result.verdict.status == "verified" and "as translated" in result.verdict.reason
    assert result.plan == ("(unstack b3 b1)", "(putdown b3)", "(pickup b1)", "(stack b1 b2)")
    assert [t.status for t in result.translations] == ["solved"]
    read = [p for p in result.pieces if p.text == "b3 sits on top of b1."]
    assert [p.facts for p in read] == [("(on b3 b2)",), ("(on b3 b1)",)] and "it names b1" in read[1].repairs[0]
    assert all(p.analogy for p in result.pieces if p.index >= 0 and p.text != "b3 sits on top of b1.")
    assert result.usage.calls == 2  # the objects, and the one sentence no example sentence words
